"""The models being served, with their review decisions."""
