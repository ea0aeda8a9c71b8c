"""Benchmark: the service's soak with dry-run checks — the same 5 minutes at 1,000 req/s of
four contract checks to one lookup as ``bench_service --soak``, but each check with
``?register=false`` (scored, answered and audited; not added to the contract ledger).

The registering soak's RSS grows by the contracts it registers (the state must remember each
one); this run tells that growth from a leak: with nothing registered, memory should be flat.

    python -m benchmarks.bench_soak [--workdir DIR] [--minutes 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.report import write_section
from benchmarks.service_home import (
    build_home,
    check_bodies,
    database_url,
    scored_entities,
    server_env,
    tokens,
)
from benchmarks.service_report import TARGET_RATE, soak_section
from benchmarks.service_servers import Load, run_load, start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_soak_"))
    work.mkdir(parents=True, exist_ok=True)
    home, market = build_home(work)
    tmp = Path(tempfile.mkdtemp(prefix="soak_", dir=work))
    office, admin = tokens(database_url(home), market)
    paths = {"institution": "institutions", "broker": "brokers"}
    lookups = [{"method": "GET", "path": f"/api/v1/{paths[k]}/{i}/score",
                "headers": {"Authorization": f"Bearer {admin}"}}
               for k, i in scored_entities(database_url(home))]
    checks = [{"method": "POST", "path": "/api/v1/contracts/check?register=false", "body": b,
               "headers": {"Authorization": f"Bearer {office}"}} for b in check_bodies(market)]
    server = start("techcredit", [sys.executable, "-m", "pipelines.cli.main", "serve", "--host",
                                  "127.0.0.1", "--port", "PORT", "--source", str(market)],
                   server_env(home), "/readyz", tmp)
    try:
        mixed = Load(server, [r for i, c in enumerate(checks)
                              for r in ([c, lookups[i % len(lookups)]] if i % 4 == 3 else [c])])
        smoke = run_load(mixed, tmp, 0.5, 1)
        if smoke["errors"] or not smoke["completed"]:
            raise RuntimeError(f"smoke: {smoke['errors_by_kind']}; see {tmp}")
        r = run_load(mixed, tmp, args.minutes * 60, 64, rate=TARGET_RATE, interval=60.0,
                     sample_rss=10.0)
    finally:
        server.stop()
    soak = soak_section(r, round(args.minutes))
    body = ("Dry-run checks (`?register=false`: scored, answered, audited, not registered), "
            "otherwise as the `service` soak.\n\n| target | measured | verdict |\n"
            "| --- | --- | --- |\n" + soak["target_row"] + "\n" + soak["table"])
    print(body)
    if not args.no_write:
        write_section("service-soak-dry-run", "python -m benchmarks.bench_soak", body)


if __name__ == "__main__":
    main()
