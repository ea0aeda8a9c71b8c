"""Benchmark: the scoring API (``techcredit serve``) under load on loopback, beside the generic
alternative (``mlflow models serve`` on the same anomaly model) and the ceiling (a FastAPI
hello-world on the same uvicorn settings).

Each server is its own process, pinned to core 0; the load generator
(:mod:`benchmarks.loadgen`, raw keep-alive HTTP/1.1 on uvloop) is another process, pinned to
core 1 (:mod:`benchmarks.service_home` builds what is served, :mod:`benchmarks.service_servers`
runs and measures, :mod:`benchmarks.service_report` writes the section). Measured:

- closed-loop maximum throughput (req/s, p50/p99) at 8 and 32 connections (every lookup and
  check waits for its audit entry's group commit, an ``fsync``, so at 8 in flight a lookup is
  bound by the disk's commit latency rather than by CPU) of hello-world, a score lookup
  (``GET /api/v1/institutions/{id}/score``), a contract check (``POST /api/v1/contracts/check``,
  audited and registered) and ``mlflow models serve`` ``/invocations`` with one contract row;
- open loop at 1,000 req/s for 30 s, contract checks and lookups: achieved rate, p50/p99,
  errors, latency counted from each request's scheduled time;
- with ``--soak``: 5 minutes at 1,000 req/s of checks mixed with lookups (4:1), the server's
  RSS every 10 s, p99 and errors per minute.

    python -m benchmarks.bench_service [--workdir DIR] [--soak] [--rounds 2]
        [--market DIR] [--database postgresql|URL]

``--workdir`` keeps the trained home (market, both models promoted, a batch scoring run in the
database) for the next run; without it everything is built in a temporary folder (about two
minutes more).

``--market DIR`` serves and checks against another market (e.g. a full-scale one from
``techcredit generate --scale 1``): the server's ``--source``, the checks' contracts and the
office token's offices are that market's; the models, the batch scores (and so the lookups)
stay those of the home market: models read features, not the market's size. The server's
start (the contract ledger state of that market) is a figure of its own.

``--database`` runs the whole home's database part (``db upgrade``, the two batch runs, the
tokens, the served app) on a fresh database of a PostgreSQL server (``postgresql``: the local
one of the tests), dropped at the end; each database kind has its own home under
``--workdir`` (:mod:`benchmarks.service_config`). Each configuration writes its own section:
``service``, ``service-postgres``, ``service-full``, ``service-full-postgres``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import service_config as config
from benchmarks.report import write_section
from benchmarks.service_home import (
    build_home,
    check_bodies,
    database_url,
    fill_database,
    forget_database,
    market_facts,
    mlflow_body,
    scored_entities,
    server_env,
    tokens,
)
from benchmarks.service_report import TARGET_RATE, best, report, run_notes, soak_section
from benchmarks.service_servers import (
    Load,
    Server,
    line,
    median_run,
    rss_mib,
    run_load,
    start,
)

HELLO = """\
import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "hello"}


# the settings `techcredit serve` uses: one worker, uvloop + httptools (auto), no access log
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="info")
"""


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=None,
                    help="keep the trained home here and reuse it (default: a temporary folder)")
    ap.add_argument("--market", type=Path, default=None,
                    help="serve and check against this market (default: the home's, scale "
                         "0.01); the models and batch scores stay the home's")
    ap.add_argument("--database", default=None,
                    help="postgresql (the local server of the tests) or a PostgreSQL server "
                         "URL: a fresh database on it for this run, dropped at the end "
                         "(default: SQLite in the home)")
    ap.add_argument("--start-timeout", type=float, default=None,
                    help="seconds to wait for the scoring server's /readyz (default: 300; "
                         "3600 with --market, whose contract ledger state is built at start)")
    ap.add_argument("--section", default=None,
                    help="the docs section to write (default: from --market and --database)")
    ap.add_argument("--soak", action="store_true", help="add the 5-minute soak")
    ap.add_argument("--soak-minutes", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=2, help="closed-loop rounds (median)")
    ap.add_argument("--seconds", type=float, default=10.0, help="closed-loop seconds per run")
    ap.add_argument("--open-seconds", type=float, default=30.0)
    ap.add_argument("--connections", type=lambda v: [int(c) for c in v.split(",")],
                    default=[8, 32], help="closed-loop connections, comma-separated")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = ap.parse_args(argv)
    try:
        args.server = config.server_url(args.database)
    except ValueError as e:
        ap.error(str(e))
    args.db_kind = config.kind(args.server)
    if args.market is not None and not (args.market / "contracts.parquet").is_file():
        ap.error(f"--market {args.market} holds no contracts.parquet")
    if args.start_timeout is None:
        args.start_timeout = 3600.0 if args.market is not None else 300.0
    return args


def main() -> None:
    args = arguments()
    t_all = time.perf_counter()
    # SIGTERM (and SIGINT, which a background shell ignores) end the run through `finally`
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(143))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_service_"))
    work.mkdir(parents=True, exist_ok=True)
    home, home_market = build_home(work, args.db_kind)
    args.t_all = t_all
    with contextlib.ExitStack() as stack:
        database = None
        if args.server is not None:  # a fresh database, filled for this run, dropped after
            database = stack.enter_context(config.fresh_database(args.server))
            print(f"database: {config.shown(database)}", flush=True)
            forget_database(home)
            fill_database(home, home_market, server_env(home, database))
        run(args, work, home, home_market, database)
    print(f"whole run {time.perf_counter() - t_all:.0f} s", flush=True)


def run(args: argparse.Namespace, work: Path, home: Path, home_market: Path,
        database: str | None) -> None:
    market = args.market.resolve() if args.market is not None else home_market
    facts = market_facts(market)
    args.market_facts = facts
    args.database_shown = ("SQLite in the home" if database is None
                           else config.describe_server(database))
    section = args.section = args.section or config.section(args.db_kind, args.market,
                                             config.is_full(facts.contracts))
    print(f"market: {market} ({facts.describe()}); section {section}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="run_", dir=work))
    url = database_url(home, database)
    office, admin = tokens(url, market)
    entities = scored_entities(url)
    args.n_entities = len(entities)
    paths = {"institution": "institutions", "broker": "brokers"}
    lookups = [{"method": "GET", "path": f"/api/v1/{paths[k]}/{i}/score",
                "headers": {"Authorization": f"Bearer {admin}"}} for k, i in entities]
    checks = [{"method": "POST", "path": "/api/v1/contracts/check", "body": b,
               "headers": {"Authorization": f"Bearer {office}"}}
              for b in check_bodies(market, day=facts.last_day)]
    invocation = {"method": "POST", "path": "/invocations", "body": mlflow_body(home)}

    env = server_env(home, database)
    hello_py = tmp / "hello.py"
    hello_py.write_text(HELLO)
    servers: list[Server] = []
    try:
        t = time.perf_counter()
        servers.append(start("techcredit", [sys.executable, "-m", "pipelines.cli.main", "serve",
                                            "--host", "127.0.0.1", "--port", "PORT",
                                            "--source", str(market)], env, "/readyz", tmp,
                             timeout=args.start_timeout))
        args.start_seconds = time.perf_counter() - t
        print(f"techcredit ready in {args.start_seconds:.0f} s", flush=True)
        t = time.perf_counter()
        servers.append(start("hello", [sys.executable, str(hello_py), "PORT"], env, "/hello",
                             tmp))
        servers.append(start("mlflow", [sys.executable, "-m", "mlflow", "models", "serve",
                                        "-m", "models:/techcredit-anomaly/1", "--env-manager",
                                        "local", "-h", "127.0.0.1", "-p", "PORT"], env, "/ping",
                             tmp))
        print(f"hello and mlflow ready in {time.perf_counter() - t:.0f} s", flush=True)
        tc, hello, mlf = servers
        args.server_rss_mib = rss_mib(tc.proc.pid)
        loads = {"hello": Load(hello, [{"method": "GET", "path": "/hello"}]),
                 "lookup": Load(tc, lookups), "check": Load(tc, checks),
                 "mlflow": Load(mlf, [invocation])}
        for name, load in loads.items():  # one request each: the answer is what we expect
            smoke = run_load(load, tmp, 0.5, 1)
            if smoke["errors"] or not smoke["completed"]:
                raise RuntimeError(f"{name}: {smoke['errors_by_kind']}; see {tmp}")

        runs: dict[str, list[dict]] = {}
        for _ in range(args.rounds):
            for conns in args.connections:
                for name, load in loads.items():
                    r = run_load(load, tmp, args.seconds, conns, warmup=2.0)
                    r["connections"] = conns
                    runs.setdefault(f"{name}@{conns}", []).append(r)
                    print(line(f"closed {name} @{conns}", r), flush=True)
        closed = {name: {c: median_run(runs[f"{name}@{c}"]) for c in args.connections}
                  for name in loads}

        opened = {name: run_load(loads[name], tmp, args.open_seconds, 64, rate=TARGET_RATE)
                  for name in ("check", "lookup")}
        for name, r in opened.items():
            print(line(f"open 1000/s {name}", r), flush=True)
        soak = None
        if args.soak:  # four checks to one lookup, at 1,000 req/s in all
            mixed = Load(tc, [r for i, c in enumerate(checks)
                              for r in ([c, lookups[i % len(lookups)]] if i % 4 == 3 else [c])])
            r = run_load(mixed, tmp, args.soak_minutes * 60, 64, rate=TARGET_RATE,
                         interval=60.0, sample_rss=10.0)
            print(line("soak", r), flush=True)
            print("rss MiB:", [round(v) for _, v in r["rss"]], flush=True)
            soak = soak_section(r, round(args.soak_minutes))
    finally:
        for s in servers:
            s.stop()

    notes = run_notes(best(closed["hello"]), os.getloadavg()[0],
                      time.perf_counter() - args.t_all)
    body = report(args, closed, opened, soak, notes)
    print(body)
    (tmp / "last.json").write_text(json.dumps({"closed": runs, "open": opened, "soak": soak,
                                               "start_seconds": args.start_seconds},
                                              default=str))
    (work / "last.json").write_text((tmp / "last.json").read_text())
    if not args.no_write:
        write_section(section, config.command(args.db_kind, args.market is not None,
                                              args.soak, args.rounds), body)


if __name__ == "__main__":
    main()
