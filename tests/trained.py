"""A tiny market with both models trained and promoted, built once per test run.

Training takes about 45 s, so the test modules that need registered champions (scoring, the
batch run, the API) share one build: the first xdist worker to ask builds it under the run's
shared temporary folder while holding a file lock; the others wait and reuse it. Tests copy
what they change (the database) and never write to the shared models: a test that registers
or promotes works on its own copy (:func:`copy_home`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from features.point_in_time.build import month_ends
from features.point_in_time.history import prepare
from features.settings import Settings
from features.synthetic.market import generate_market, write_market
from features.synthetic.spec import MarketSpec
from models.registry import (
    ANOMALY_MODEL,
    CHALLENGER,
    CREDIT_MODEL,
    Store,
    promote,
    store_for,
)
from pipelines.build_features import build_task
from pipelines.training.panel import train_panel

SPEC = MarketSpec(first_year=2014, last_year=2020, scale=0.01, seed=3)
DONE = "trained.ok"


@dataclass(frozen=True)
class Trained:
    settings: Settings
    source: Path  # the market's standard tables (Parquet)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {p.stem: pd.read_parquet(p) for p in sorted(self.source.glob("*.parquet"))}


def shared_folder(factory: pytest.TempPathFactory) -> Path:
    """One folder for the whole run: the xdist workers' common parent, keyed by the run."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = factory.getbasetemp()
    return base.parent / f"trained-{run}" if run else base / "trained"


def build(folder: Path) -> Trained:
    """Both models trained on a 0.01 market (2014–2020, features to 2019), version 1 of each
    promoted with a recorded override as the demo does."""
    folder.mkdir(parents=True, exist_ok=True)
    trained = Trained(Settings(home=folder / "home"), folder / "market")
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / DONE).exists():
            return trained
        market = generate_market(SPEC)
        write_market(market, trained.source)
        build_task.fn(prepare(market.tables), month_ends("2015-01", "2019-12"),
                      trained.settings, market.truth["contracts"])
        train_panel(trained.settings, trained.source)
        for name in (ANOMALY_MODEL, CREDIT_MODEL):
            promote(store_for(trained.settings), name, "1", reviewer="demo",
                    note="test: demo promotion", thresholds=trained.settings.gate,
                    override=True)
        (folder / DONE).write_text("ok")
    return trained


def copy_home(source: Path, target: Path) -> Path:
    """The trained home (``settings.home_dir``) copied, with the MLflow store's absolute
    artifact paths moved along."""
    shutil.copytree(source, target)
    old, new = str(source.resolve()), str(target.resolve())
    with sqlite3.connect(target / "mlflow.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in [r[1] for r in db.execute(f"PRAGMA table_info('{table}')")
                           if "CHAR" in r[2].upper() or "TEXT" in r[2].upper()]:
                db.execute(f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                           f'WHERE instr("{column}", ?) > 0', (old, new, old))
    return target


def register_challenger(store: Store, name: str) -> str:
    """A second version of the champion's run, under the challenger alias, as training does."""
    client = store.client()
    v1 = client.get_model_version(name, "1")
    mv = client.create_model_version(name, v1.source, v1.run_id)
    client.set_registered_model_alias(name, CHALLENGER, mv.version)
    return str(mv.version)
