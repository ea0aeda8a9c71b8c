"""The long-lived stack on loopback: its processes, their start, and the Prefect server."""
