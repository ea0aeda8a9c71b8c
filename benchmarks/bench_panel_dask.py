"""Benchmark: the 12 month-end panel of 2020 on the demo-scale market, in-process against its
months on a local Dask cluster (two worker processes of one thread), the same tables checked.

    PREFECT_API_URL=http://127.0.0.1:4200/api python -m benchmarks.bench_panel_dask

The Dask path records its task runs on a Prefect server (``techcredit up`` or
``prefect server start`` gives one). CPU seconds are timed besides wall time: they show the
work the months cost in total (each reads the contract history before it again), which wall
time hides on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import pandas as pd
from distributed import Client, LocalCluster

from benchmarks.report import write_section
from features.point_in_time.build import KINDS, month_ends
from features.point_in_time.history import History, prepare
from features.settings import PrefectSettings, Settings
from features.synthetic.market import generate_market
from features.synthetic.spec import MarketSpec
from pipelines.build_features import month_end_panel

DATES = month_ends("2020-01", "2020-12")
WORKERS = 2


Timed = tuple[float, float, dict[str, pd.DataFrame]]  # wall s, CPU s, the panel


def timed(fn: Callable[[], dict[str, pd.DataFrame]], cpu: Callable[[], float]) -> Timed:
    """Wall and CPU seconds: on a machine shared with other work the CPU seconds are the
    steadier measure of the work done."""
    t, c = time.perf_counter(), cpu()
    out = fn()
    return time.perf_counter() - t, cpu() - c, out


def on_dask(h: History) -> Timed:
    """The panel on a new cluster, whose workers have imported nothing yet, as a flow run on a
    new cluster meets them. CPU: the workers' and ours."""
    with LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        settings = Settings(prefect=PrefectSettings(dask_address=cluster.scheduler_address))

        def cpu() -> float:
            return sum(client.run(time.process_time).values()) + time.process_time()

        return timed(lambda: month_end_panel(h, DATES, settings), cpu)


def row(t: Timed) -> str:
    return f"{t[0]:.1f} s | {t[1]:.1f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=MarketSpec().scale)
    args = ap.parse_args()
    spec = MarketSpec(scale=args.scale)
    h = prepare(generate_market(spec).tables)
    load = os.getloadavg()[0]
    in_process = Settings(prefect=PrefectSettings())
    panel = timed(lambda: month_end_panel(h, DATES, in_process), time.process_time)
    dask = on_dask(h)
    for kind in KINDS:
        pd.testing.assert_frame_equal(dask[2][kind], panel[2][kind], check_exact=True)
    rows = " / ".join(f"{len(panel[2][k]):,}" for k in KINDS)
    body = f"""
Demo-scale market ({spec.first_year}–{spec.last_year}, scale {spec.scale:g}, seed {spec.seed}:
{len(h.contracts):,} contracts), the 12 month-end panel of 2020 ({rows} institution / broker /
contract rows) on prepared tables; single runs on a machine shared with other work (load
average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end). Both give the same tables
(`assert_frame_equal`, exact).

| figure | wall | CPU |
| --- | --- | --- |
| in-process, `build_panel` (contracts in one pass) — the default | {row(panel)} |
| Dask, {WORKERS} local workers × 1 thread (new: imports, history broadcast) | {row(dask)} |
"""
    print(body)
    write_section("panel-dask", "PREFECT_API_URL=… python -m benchmarks.bench_panel_dask", body)


if __name__ == "__main__":
    main()
