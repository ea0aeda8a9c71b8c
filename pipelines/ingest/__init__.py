"""Ingest: export files read, typed, validated and quarantined, then published to the curated
store (the flow, one run, its state and report, and the Great Expectations worker)."""
