"""Entity scores: the in-memory read model of score answers, list queries, overrides and the
status of record beside each score."""
