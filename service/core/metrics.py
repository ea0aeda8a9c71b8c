"""Prometheus metrics of one app: request latency per route, scores served, checks by tier,
the model versions loaded. Each app has its own registry, so several apps (tests) never
share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# 0.5 ms … 2.5 s: a contract check's target is 15 ms at p99
BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "techcredit_request_seconds", "Request latency by route", ["method", "route", "status"],
            buckets=BUCKETS, registry=self.registry)
        self.scores_served = Counter(
            "techcredit_scores_served_total", "Entity scores returned", ["kind"],
            registry=self.registry)
        self.checks = Counter(
            "techcredit_contract_checks_total", "Contracts checked, by tier (none: no warning)",
            ["tier"], registry=self.registry)
        self.denials = Counter(
            "techcredit_denials_total", "Requests refused by authentication or permission",
            ["reason"], registry=self.registry)
        self.model = Gauge(
            "techcredit_model_loaded", "1 for each model version being served",
            ["name", "version", "alias"], registry=self.registry)
        self.swaps = Counter(
            "techcredit_model_swaps_total", "Model sets swapped in", registry=self.registry)

    def loaded(self, refs: list[tuple[str, str, str]]) -> None:
        self.model.clear()
        for name, version, alias in refs:
            self.model.labels(name, version, alias).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
