"""Entity scores: one entity's latest score with history, the filtered list, overrides."""
