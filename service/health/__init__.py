"""Liveness, readiness and Prometheus metrics (no token: for the orchestrator and scraper)."""
