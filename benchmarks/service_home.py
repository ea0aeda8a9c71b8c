"""The service benchmark's home: a tiny market, both models trained and promoted, two batch
scoring runs in the database; and what the load sends (tokens, entities, contracts)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.service_config import layout

ROOT = Path(__file__).resolve().parent.parent
SCORE_DATES = ("2020-06-30", "2020-12-31")  # two batch runs: lookups carry a history
CHECK_DAY = "2020-12-31"  # the market's last registration day: the service's state date


def build_home(work: Path, db_kind: str = "sqlite", database: str | None = None
               ) -> tuple[Path, Path]:
    """The home of ``db_kind`` under ``work`` (:func:`benchmarks.service_config.layout`) and
    the home market ``work/market``: the models are trained once and reused while the
    marker exists; the database (``database``, or SQLite in the home) is filled by
    :func:`fill_database` here when it is kept with the home (SQLite), else by the caller on
    each run's fresh database."""
    where = layout(work, db_kind)
    home, market = where.home, where.market
    if where.marker.exists():
        return home, market
    shutil.rmtree(home, ignore_errors=True)
    t = time.perf_counter()
    code = f"""
from pathlib import Path
from features.point_in_time.build import month_ends
from features.point_in_time.history import prepare
from features.settings import Settings
from features.synthetic.market import generate_market, write_market
from features.synthetic.spec import MarketSpec
from models.registry import ANOMALY_MODEL, CREDIT_MODEL, promote, tracking_for
from pipelines.build_features import build_task
from pipelines.runtime import configure
from pipelines.training.panel import train_panel

settings = configure(Settings(home=Path({str(home)!r})))
source = Path({str(market)!r})
market = generate_market(MarketSpec(first_year=2014, last_year=2020, scale=0.01, seed=3))
if not (source / "contracts.parquet").is_file():  # else another database kind's: the same
    write_market(market, source)
build_task.fn(prepare(market.tables), month_ends("2015-01", "2019-12"), settings,
              market.truth["contracts"])
train_panel(settings, source)
for name in (ANOMALY_MODEL, CREDIT_MODEL):
    promote(tracking_for(settings), name, "1", reviewer="bench", note="benchmark home",
            thresholds=settings.gate, override=True)
"""
    env = server_env(home, database)
    # cwd: the work folder, so that nothing MLflow or Prefect may write lands in the checkout
    subprocess.run([sys.executable, "-c", code], check=True, cwd=work, env=env)
    print(f"trained and promoted both models in {time.perf_counter() - t:.0f} s", flush=True)
    if where.database_cached:
        fill_database(home, market, env)
    where.marker.write_text("ok")
    return home, market


def fill_database(home: Path, market: Path, env: dict[str, str]) -> None:
    """The database of ``env`` migrated and filled by two batch scoring runs on ``market``."""
    cli = [sys.executable, "-m", "pipelines.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], check=True, cwd=home.parent, env=env)
    for day in SCORE_DATES:  # the batch run, as production fills the scores table
        t = time.perf_counter()
        subprocess.run([*cli, "score", "--as-of", day, "--source", str(market)], check=True,
                       cwd=home.parent, env=env)
        print(f"batch scoring at {day}: {time.perf_counter() - t:.0f} s", flush=True)


def forget_database(home: Path) -> None:
    """What the home keeps of a database that is gone: its audit checkpoints (a new
    database's chains would not verify against them)."""
    for name in ("audit-checkpoints.jsonl",):
        (home / name).unlink(missing_ok=True)


def server_env(home: Path, database: str | None = None) -> dict[str, str]:
    """The environment of every process of the home: its settings only, ``database`` (a URL)
    as the operational database when given (else SQLite in the home)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TECHCREDIT_", "MLFLOW_", "PREFECT_"))}
    env["TECHCREDIT_HOME"] = str(home)
    if database is not None:
        env["TECHCREDIT_DATABASE_URL"] = database
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    env["PYTHONPATH"] = str(ROOT)
    # mlflow models serve runs `uvicorn` by name: the venv's bin first on PATH
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def database_url(home: Path, database: str | None = None) -> str:
    from features.settings import Settings

    return database or Settings(home=home).db_url


def tokens(url: str, market: Path | None = None) -> tuple[str, str]:
    """A registration office's token (checks, for every office of ``market``: an office user
    registers for its own offices only) and an admin's (lookups), fresh each run."""
    import pandas as pd

    from service.core.db.engine import make_engine, session_factory
    from service.core.db.users import add_user

    engine = make_engine(url)
    stamp = f"{os.getpid()}-{int(time.time())}"
    with session_factory(engine).begin() as session:
        offices = sorted(pd.read_parquet(market / "contracts.parquet", columns=["office_id"])
                         ["office_id"].dropna().unique()) if market is not None else []
        _, office = add_user(session, f"bench-office-{stamp}", "office", offices=offices)
        _, admin = add_user(session, f"bench-admin-{stamp}", "admin")
    engine.dispose()
    return office, admin


def scored_entities(url: str) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from service.core.db.engine import make_engine, session_factory
    from service.core.db.tables import Score

    engine = make_engine(url)
    with session_factory(engine)() as session:
        rows = session.execute(select(Score.entity_kind, Score.entity_id).distinct()).all()
    engine.dispose()
    return sorted((k, i) for k, i in rows)


@dataclass(frozen=True)
class MarketFacts:
    """What the report says of the served market."""

    contracts: int
    first_year: int
    last_year: int
    last_day: str  # the last registration day: the service's state date, the checks' date

    def describe(self) -> str:
        return f"{self.contracts:,} contracts, {self.first_year}–{self.last_year}"


def market_facts(market: Path) -> MarketFacts:
    days = pd.to_datetime(pd.read_parquet(market / "contracts.parquet",
                                          columns=["registered_date"])["registered_date"])
    return MarketFacts(contracts=len(days), first_year=int(days.min().year),
                       last_year=int(days.max().year), last_day=str(days.max().date()))


def check_bodies(market: Path, n: int = 500, day: str = CHECK_DAY) -> list[str]:
    """The market's last ``n`` contracts as registration requests on ``day`` (the state's
    day), each with a fresh contract id (``@@N@@`` is the load generator's counter)."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(market / "contracts.parquet")
    # the last row groups only: a full-scale market has 3.5 million rows
    groups, rows = [], 0
    for g in range(table.num_row_groups - 1, -1, -1):
        groups.insert(0, g)
        rows += table.metadata.row_group(g).num_rows
        if rows >= n:
            break
    df = table.read_row_groups(groups).to_pandas().tail(n)
    bodies = []
    for row in df.to_dict("records"):
        body = {k: v for k, v in row.items() if not k.startswith("status")}
        body = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in body.items()}
        body["contract_id"] = "CBX@@N@@"
        body["registered_date"] = day
        body["signed_date"] = min(str(body["signed_date"])[:10], day)
        bodies.append(json.dumps(body, ensure_ascii=False))
    return bodies


def mlflow_body(home: Path) -> str:
    """One contract row of the anomaly model's input (its logged held-out sample), in the
    ``dataframe_split`` format ``mlflow models serve`` reads."""
    out = subprocess.run([sys.executable, "-c", """
import json, math, mlflow, pandas as pd
v = mlflow.MlflowClient().get_model_version("techcredit-anomaly", "1")
path = mlflow.artifacts.download_artifacts(run_id=v.run_id, artifact_path="reproduce.parquet")
split = pd.read_parquet(path).head(1).to_dict(orient="split")
split["data"] = [[None if isinstance(x, float) and math.isnan(x) else x for x in r]
                 for r in split["data"]]
print(json.dumps({"dataframe_split": split}, default=str))
"""], check=True, capture_output=True, text=True, env=server_env(home), cwd=home)
    return out.stdout.strip().splitlines()[-1]
