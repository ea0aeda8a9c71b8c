"""Helpers the ingest tests share: a whole run without Prefect, and the party exports that
contracts' foreign keys need."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from features.settings import Settings
from pipelines.ingest.gx_worker import GXWorker
from pipelines.ingest.run import IngestRun

TODAY = date(2026, 11, 23)


def parties(market: dict[str, pd.DataFrame], src: Path) -> list[Path]:
    """Institutions and brokers exports, which contracts' foreign keys need."""
    out = []
    for name in ("institutions", "brokers"):
        market[name].to_parquet(src / f"{name}.parquet")
        out.append(src / f"{name}.parquet")
    return out


def run_ingest(home: Path, paths: list[Path], gx: GXWorker | None, **kw: object) -> IngestRun:
    with IngestRun(Settings(home=home), TODAY, worker=gx, **kw) as run:
        for name, files in run.plan(paths).items():
            run.stage_table(name, files)
        run.publish()
    return run
