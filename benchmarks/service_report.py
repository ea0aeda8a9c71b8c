"""The service benchmark's report: the targets with verdicts, the tables, and the profile and
findings that say where a request's time goes."""

from __future__ import annotations

import argparse
import json

from benchmarks.service_config import BASE_SECTION
from benchmarks.service_home import SCORE_DATES

PROFILE = """
**Where a request's CPU goes** (2026-11-25, this machine, shared; the app driven in-process over
ASGI by 16 concurrent callers, CPU of the whole process per request, the journal thread
included; uvicorn's HTTP parsing and writing add about 0.14 ms, hello-world's 0.20 ms over HTTP
against 0.06 ms in-process):

| | contract check | score lookup |
| --- | --- | --- |
| before (commit 0918fcc) | 1.93 ms | 2.89 ms |
| FastAPI routing, dependencies, body/answer validation | ~0.6 → skipped | ~0.2 → skipped |
| four ORM reads + pydantic answer | – | ~2.2 ms → one dict read of ready JSON bytes |
| online features, of which the flow-network search (`flows.check`) | ~0.12 ms, ~0.08 ms | – |
| rules, registration | ~0.07 ms | – |
| model + TreeSHAP reasons | 0.06 ms alone → ~0.01 ms a row (batch of 8) | – |
| journal thread (rows + audit), per request | 1.2 → 0.11 ms (16 a commit) | 0.06–0.07 ms |
| after | 0.60 ms | 0.13–0.15 ms |

A group commit costs about 0.3 ms of CPU however small (SQLite in WAL with `synchronous=FULL`:
the `fsync` is kernel time on this core), so a request's share of it falls as more requests
share a commit; the rows themselves cost ~0.02 ms each through `executemany`.
"""
FINDINGS = """
**What changed** (each measured as above before it was kept):

1. *Score lookups from a read model.* Every entity's answer (latest score, 36 of history, the
   warning of that date, the override in force, registry status) is kept as JSON bytes and
   refreshed by change markers (`max(id)` of scores and warnings; `max(id)` and revoked count
   of overrides) polled every second, loading only the entities that changed; an override set
   through the service refreshes it before answering. 2.9 → 0.47 ms.
2. *A fast lane for the two hot requests* (`service/web/fast_lane.py`): by a cached token,
   the lookup and the single check skip FastAPI's routing over every route and its five nested
   dependency solves, with the route's own permission and region checks, audit and answer;
   everything else falls through to the route. Lookups 0.47 → 0.18 ms, checks 1.42 → 1.10 ms.
3. *The journal without the ORM*: check rows as column values; rows and audit entries to the
   driver in one `executemany` per table (SQLAlchemy compiles the statement and the bind
   processors once); its own connection, no pool or session per batch; one wake-up call per
   batch into the event loop. Per group commit 0.54 → 0.30 ms of CPU.
4. *Micro-batched scoring*: a check runs its state part (features, rule hits, registration)
   at once in arrival order and waits up to 1 ms for others to share one LightGBM
   `pred_contrib` call. Checks 0.93 → 0.60 ms (the bigger batches also fill the group commit).
5. *Smaller costs*: the audited path without building a URL (a fifth of a lookup's CPU),
   the online state's day numbers by date ordinal.

**What is left**: a check's state part is now half its CPU and most of that is the flow-network
search of the flow engine (`features/point_in_time/flow_*.py`: cycles of 2–6 parties
through the window's flows),
which this change does not touch; the group commit's `fsync`; and the fixed costs of uvicorn,
Starlette's middleware stack (FastAPI's telemetry check reads the environment on every request)
and the three middlewares, which hello-world shares only in part.

**Reading the open-loop and soak rows**: every answer waits for its audit entry's group commit,
an `fsync` of SQLite's WAL, so a slow disk is latency for every request at once; on this shared
machine (other test suites writing SQLite and PostgreSQL) single commits took up to tens of ms
and, in the worst minute of the soak, the server fell behind and never caught up at the share
of its core it was given. Memory: each check registers a new contract in the contract ledger
(about 240,000 in the soak, ~0.3 KiB each), so RSS rises with registrations by design; the
flatness test cannot tell that from a leak, and a lookup-only or dry-run soak would.
"""
TARGET_P99_MS = 15.0
TARGET_RATE = 1000.0
CHECK_SHARE_OF_HELLO = 0.3


def open_loop_ok(r: dict) -> bool:
    """An open-loop run at the target rate kept it, with no errors, within the p99 bound."""
    return (r["rps"] >= 0.99 * TARGET_RATE and r["errors"] == 0
            and r.get("p99_ms", float("inf")) <= TARGET_P99_MS)


def database_words(args: argparse.Namespace) -> str:
    if getattr(args, "db_kind", "sqlite") == "sqlite":
        return "SQLite in the home, WAL"
    return args.database_shown


def run_notes(hello: dict, load_average: float, seconds: float) -> list[str]:
    """What to read the figures with: who set the ceiling, and how busy the machine was."""
    server, generator = hello["server_cpu_pct"], hello["generator_cpu_pct"]
    if server >= 90:
        who = "so the server, not the generator, sets the ceiling"
    else:
        who = ("so neither was saturated: other work on the machine held the server's core, "
               "the throughputs are lower bounds and CPU ms per request is the figure to "
               "compare")
    return [
        f"Generator headroom: against hello-world the generator used {generator:.0f}% of its "
        f"core while the server used {server:.0f}% of its own, {who} (figures per run in the "
        "CPU column; 100% = one core).",
        f"Load average at the end of the run: {load_average:.1f} (2 cores; the machine is "
        "shared with other work, which competes for both cores).",
        f"Whole run {seconds:.0f} s (home built once per `--workdir`).",
    ]


def best(runs: dict[int, dict]) -> dict:
    """The run of the concurrency with the highest throughput."""
    return max(runs.values(), key=lambda r: r["rps"])


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def fmt_ms(r: dict, key: str) -> str:
    return f"{r[key]:.1f}" if key in r else "–"


def report(args: argparse.Namespace, closed: dict[str, dict[int, dict]], opened: dict[str, dict],
           soak: dict | None, notes: list[str]) -> str:
    top = {k: best(v) for k, v in closed.items()}
    hello, mlf = top["hello"]["rps"], top["mlflow"]["rps"]
    rows = []
    names = {"hello": "FastAPI hello-world `GET /hello` (ceiling)",
             "lookup": "score lookup `GET /api/v1/institutions/{id}/score`",
             "check": "contract check `POST /api/v1/contracts/check`",
             "mlflow": "`mlflow models serve` `/invocations`, 1 contract row"}
    for conns in args.connections:
        same = closed["hello"][conns]["rps"]
        for key in ("hello", "lookup", "check", "mlflow"):
            r = closed[key][conns]
            rows.append(f"| {names[key]} | {conns} | {r['rps']:,.0f} | {fmt_ms(r, 'p50_ms')} | "
                        f"{fmt_ms(r, 'p99_ms')} | {r['rps'] / same:.2f} | "
                        f"{r['rps'] / closed['mlflow'][conns]['rps']:.1f} | {r['errors']} | "
                        f"{r['server_cpu_ms']:.2f} | "
                        f"{r['server_cpu_pct']:.0f}% / {r['generator_cpu_pct']:.0f}% |")
    targets = []
    lk, ck = top["lookup"], top["check"]
    oc, ol = opened["check"], opened["lookup"]
    ok_rate = oc["rps"] >= 0.99 * TARGET_RATE and oc["errors"] == 0
    targets.append(
        f"| contract check p99 < {TARGET_P99_MS:.0f} ms at 1,000 req/s, audit on | "
        f"p99 {fmt_ms(oc, 'p99_ms')} ms (p50 {fmt_ms(oc, 'p50_ms')} ms) at "
        f"{oc['rps']:,.0f} req/s achieved, {oc['errors']} errors | "
        f"{verdict(ok_rate and oc.get('p99_ms', 1e9) < TARGET_P99_MS)} |")
    targets.append(
        f"| lookups ≥ 0.5 × hello-world throughput (each at its best concurrency) | "
        f"{lk['rps']:,.0f} (at {lk['connections']}) / {hello:,.0f} (at "
        f"{top['hello']['connections']}) = {lk['rps'] / hello:.2f} × | "
        f"{verdict(lk['rps'] >= 0.5 * hello)} |")
    targets.append(
        f"| lookups ≥ 5 × `mlflow models serve` | {lk['rps']:,.0f} / {mlf:,.0f} = "
        f"{lk['rps'] / mlf:.1f} × | {verdict(lk['rps'] >= 5 * mlf)} |")
    targets.append(
        f"| contract checks ≥ 5 × `mlflow models serve` | {ck['rps']:,.0f} / {mlf:,.0f} = "
        f"{ck['rps'] / mlf:.1f} × | {verdict(ck['rps'] >= 5 * mlf)} |")
    targets.append(
        f"| contract checks ≥ {CHECK_SHARE_OF_HELLO} × hello-world throughput on one core "
        f"(each at its best concurrency) | {ck['rps']:,.0f} (at {ck['connections']}) / "
        f"{hello:,.0f} (at {top['hello']['connections']}) = {ck['rps'] / hello:.2f} × | "
        f"{verdict(ck['rps'] >= CHECK_SHARE_OF_HELLO * hello)} |")
    targets.append(
        f"| p99 ≤ {TARGET_P99_MS:.0f} ms at 1,000 req/s open loop, checks and lookups (each "
        f"achieved, 0 errors) | checks p99 {fmt_ms(oc, 'p99_ms')} ms at {oc['rps']:,.0f} "
        f"req/s, lookups p99 {fmt_ms(ol, 'p99_ms')} ms at {ol['rps']:,.0f} req/s | "
        f"{verdict(open_loop_ok(oc) and open_loop_ok(ol))} |")
    targets.append(
        f"| (extra) lookups at 1,000 req/s | p99 {fmt_ms(ol, 'p99_ms')} ms "
        f"(p50 {fmt_ms(ol, 'p50_ms')} ms) at {ol['rps']:,.0f} req/s, {ol['errors']} errors | "
        f"{verdict(ol['rps'] >= 0.99 * TARGET_RATE and ol['errors'] == 0)} |")
    if soak is not None:
        targets.append(soak["target_row"])
    else:
        targets.append("| 5-minute soak at 1,000 req/s: zero errors, flat memory | not run "
                       "(`--soak`) | – |")
    facts = args.market_facts
    if args.market is None:
        lookup_market, market_words = "", f"Market: the home's, scale 0.01, {facts.describe()}."
    else:
        lookup_market = " on the home market"
        market_words = (f"Served market (`--market`, the server's `--source`): "
                        f"{facts.describe()}; the models are those trained on the home "
                        "market (scale 0.01, 2014–2020): they read features, not the market's "
                        "size.")
    body = f"""
Servers on loopback, each one process (one uvicorn worker, uvloop + httptools, no access log)
pinned to core 0; the load generator (`benchmarks/loadgen.py`: raw keep-alive HTTP/1.1 on
uvloop, one process) pinned to core 1. A check is audited and registered: its row and its audit
entry are committed ({database_words(args)}, group commit) before the answer; so is a lookup's
audit entry. Lookups cycle over the
{args.n_entities} institutions and brokers of two batch runs (`techcredit score --as-of`
{" and ".join(SCORE_DATES)}{lookup_market}); checks cycle over the served market's last 500
contracts, re-dated to {facts.last_day}, each with a fresh contract id. {market_words}

Start: the scoring server answered `/readyz` {args.start_seconds:.0f} s after it was launched
(migrations checked, models loaded, the contract ledger state of the served market built),
RSS {args.server_rss_mib:,.0f} MiB when ready.

**Targets**

| target | measured | verdict |
| --- | --- | --- |
{chr(10).join(targets)}

**Maximum throughput** (closed loop at {" and ".join(map(str, args.connections))} connections,
{args.seconds:.0f} s after a 2 s warm-up; the median of {args.rounds} interleaved rounds; latency
from send; × hello and × mlflow at the same concurrency; CPU s/g: server / generator)

| endpoint | conn | req/s | p50 ms | p99 ms | × hello | × mlflow | errors | CPU ms/req | CPU s/g |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

**Open loop at 1,000 req/s** ({args.open_seconds:.0f} s, 64 connections; latency from each
request's scheduled send time, so queueing counts)

| endpoint | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | errors | CPU server / generator |
| --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(open_row(n, opened[k]) for k, n in (("check", "contract check"),
                                                  ("lookup", "score lookup")))}
"""
    if soak is not None:
        body += soak["table"]
    body += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    if getattr(args, "section", BASE_SECTION) == BASE_SECTION:
        return body + PROFILE + FINDINGS
    return body + ("\nWhere a request's CPU goes, what changed and how to read the open-loop "
                   "rows: the `service` section (SQLite, the home market).\n")


def open_row(name: str, r: dict) -> str:
    return (f"| {name} | {r['rps']:,.0f} | {fmt_ms(r, 'p50_ms')} | {fmt_ms(r, 'p90_ms')} | "
            f"{fmt_ms(r, 'p99_ms')} | {fmt_ms(r, 'max_ms')} | {r['errors']} | "
            f"{r['server_cpu_pct']:.0f}% / {r['generator_cpu_pct']:.0f}% |")


def soak_section(r: dict, minutes: int) -> dict:
    rss = r["rss"]
    first, last = rss[0][1], rss[-1][1]
    peak = max(v for _, v in rss)
    after1 = [v for t, v in rss if t >= 60] or [last]
    grow = last - after1[0]
    per_min = []
    for w in r.get("windows", []):
        per_min.append(f"| {int(w['start_s'] // 60) + 1} | {w['rps']:,.0f} | "
                       f"{fmt_ms(w, 'p50_ms')} | {fmt_ms(w, 'p99_ms')} | {fmt_ms(w, 'max_ms')} |")
    samples = ", ".join(f"{v:.0f}" for _, v in rss)
    flat = grow <= max(10.0, 0.05 * after1[0])
    ok = r["errors"] == 0 and flat and r["rps"] >= 0.99 * TARGET_RATE
    row = (f"| {minutes}-minute soak at 1,000 req/s: zero errors, flat memory | "
           f"{r['rps']:,.0f} req/s, {r['errors']} errors, p99 {fmt_ms(r, 'p99_ms')} ms; RSS "
           f"{first:.0f} → {last:.0f} MiB (max {peak:.0f}; {grow:+.0f} MiB after minute 1) | "
           f"{verdict(ok)} |")
    table = f"""
**Soak** ({minutes} min open loop at 1,000 req/s, four contract checks to one lookup, 64
connections; the server's RSS from
`/proc/PID/status` every 10 s)

| minute (answers arriving in it) | answered req/s | p50 ms | p99 ms | max ms |
| --- | --- | --- | --- | --- |
{chr(10).join(per_min)}

Errors: {r['errors']} {json.dumps(r['errors_by_kind']) if r['errors'] else ''}. RSS (MiB) every
10 s: {samples}. Server CPU {r['server_cpu_pct']:.0f}%, generator CPU
{r['generator_cpu_pct']:.0f}%.
"""
    return {"target_row": row, "table": table, "ok": ok}
