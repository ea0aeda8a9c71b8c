"""Scoring: one entity or a file of contracts on demand, and the batch run into the
operational database."""
