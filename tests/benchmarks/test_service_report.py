"""The service benchmark's section from made-up runs: every target with its verdict, the
served market and the database named, the server's start time given (nothing is started)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.service_home import MarketFacts
from benchmarks.service_report import open_loop_ok, report


def run(rps: float, p99: float = 5.0, connections: int = 8, errors: int = 0) -> dict:
    return {"rps": rps, "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": p99, "max_ms": 9.0,
            "errors": errors, "errors_by_kind": {}, "connections": connections,
            "server_cpu_pct": 95.0, "server_cpu_ms": 1000 * 0.95 / rps,
            "generator_cpu_pct": 10.0}


def body(market: Path | None, db_kind: str, check_rps: float, check_p99: float,
         section: str = "service") -> str:
    args = argparse.Namespace(
        section=section,
        connections=[8, 32], rounds=1, seconds=5.0, open_seconds=10.0, n_entities=135,
        market=market, db_kind=db_kind, start_seconds=312.4, server_rss_mib=3_900.0,
        database_shown="PostgreSQL 15.2 on h:5432, a database of its own for this run",
        market_facts=MarketFacts(contracts=3_571_254, first_year=2011, last_year=2020,
                                 last_day="2020-12-31"))
    closed = {"hello": {8: run(8000), 32: run(9000, connections=32)},
              "lookup": {8: run(4000), 32: run(6000, connections=32)},
              "check": {8: run(check_rps), 32: run(check_rps * 0.9, connections=32)},
              "mlflow": {8: run(120), 32: run(125, connections=32)}}
    opened = {"check": run(1000, p99=check_p99, connections=64),
              "lookup": run(1000, p99=4.0, connections=64)}
    return report(args, closed, opened, None, ["a note"])


def test_the_new_targets_are_judged_beside_the_old_ones() -> None:
    met = body(None, "sqlite", check_rps=3000, check_p99=12.0)
    assert "| contract checks ≥ 0.3 × hello-world throughput on one core" in met
    assert "3,000 (at 8) / 9,000 (at 32) = 0.33 × | met |" in met
    assert "checks p99 12.0 ms at 1,000 req/s, lookups p99 4.0 ms at 1,000 req/s | met |" in met
    assert "lookups ≥ 5 × `mlflow models serve`" in met  # the old targets stay
    assert "SQLite in the home" in met and "Market: the home's, scale 0.01" in met

    missed = body(None, "sqlite", check_rps=2000, check_p99=15.5)
    assert "= 0.22 × | **not met** |" in missed
    assert "checks p99 15.5 ms" in missed and missed.count("**not met**") >= 3


def test_a_served_market_and_postgresql_are_named_and_the_start_time_given() -> None:
    text = body(Path("/m"), "postgres", check_rps=3000, check_p99=12.0,
                section="service-full-postgres")
    assert "3,571,254 contracts, 2011–2020" in text and "on the home market" in text
    assert "(PostgreSQL 15.2 on h:5432, a database of its own for this run, group commit)" \
        in text.replace("\n", " ")
    assert "answered `/readyz` 312 s after it was launched" in text
    # the profile and findings are the base section's, not repeated in every configuration
    assert "**Where a request's CPU goes**" not in text
    assert "**Where a request's CPU goes**" in body(None, "sqlite", 3000, 12.0)


def test_the_open_loop_bound_is_inclusive_and_needs_the_rate_and_no_errors() -> None:
    assert open_loop_ok(run(1000, p99=15.0))
    assert not open_loop_ok(run(980, p99=5.0))
    assert not open_loop_ok(run(1000, p99=5.0, errors=1))
    assert not open_loop_ok({"rps": 1000, "errors": 0})  # no latencies at all
