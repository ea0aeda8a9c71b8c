"""Prefect flows, the command line and the long-lived stack: thin wiring of ``features``,
``models`` and the service core with IO, in rooms (cli, ingest, store, training, scoring,
stack, demo)."""
