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
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCORE_DATES = ("2020-06-30", "2020-12-31")  # two batch runs: lookups carry a history
CHECK_DAY = "2020-12-31"  # the market's last registration day: the service's state date


def build_home(work: Path) -> tuple[Path, Path]:
    """``work/home`` and ``work/market``: built once, reused while ``work/home.ok`` exists."""
    home, market = work / "home", work / "market"
    if (work / "home.ok").exists():
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
write_market(market, source)
build_task.fn(prepare(market.tables), month_ends("2015-01", "2019-12"), settings,
              market.truth["contracts"])
train_panel(settings, source)
for name in (ANOMALY_MODEL, CREDIT_MODEL):
    promote(tracking_for(settings), name, "1", reviewer="bench", note="benchmark home",
            thresholds=settings.gate, override=True)
"""
    env = server_env(home)
    # cwd: the work folder, so that nothing MLflow or Prefect may write lands in the checkout
    subprocess.run([sys.executable, "-c", code], check=True, cwd=work, env=env)
    print(f"trained and promoted both models in {time.perf_counter() - t:.0f} s", flush=True)
    cli = [sys.executable, "-m", "pipelines.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], check=True, cwd=work, env=env)
    for day in SCORE_DATES:  # the batch run, as production fills the scores table
        t = time.perf_counter()
        subprocess.run([*cli, "score", "--as-of", day, "--source", str(market)], check=True,
                       cwd=work, env=env)
        print(f"batch scoring at {day}: {time.perf_counter() - t:.0f} s", flush=True)
    (work / "home.ok").write_text("ok")
    return home, market


def server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TECHCREDIT_", "MLFLOW_", "PREFECT_"))}
    env["TECHCREDIT_HOME"] = str(home)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{home / 'mlflow.db'}"
    env["PYTHONPATH"] = str(ROOT)
    # mlflow models serve runs `uvicorn` by name: the venv's bin first on PATH
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def tokens(home: Path, market: Path | None = None) -> tuple[str, str]:
    """A registration office's token (checks, for every office of ``market``: an office user
    registers for its own offices only) and an admin's (lookups), fresh each run."""
    import pandas as pd

    from features.settings import Settings
    from service.core.db.engine import make_engine, session_factory
    from service.core.db.users import add_user

    engine = make_engine(Settings(home=home).db_url)
    stamp = f"{os.getpid()}-{int(time.time())}"
    with session_factory(engine).begin() as session:
        offices = sorted(pd.read_parquet(market / "contracts.parquet", columns=["office_id"])
                         ["office_id"].dropna().unique()) if market is not None else []
        _, office = add_user(session, f"bench-office-{stamp}", "office", offices=offices)
        _, admin = add_user(session, f"bench-admin-{stamp}", "admin")
    engine.dispose()
    return office, admin


def scored_entities(home: Path) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from features.settings import Settings
    from service.core.db.engine import make_engine, session_factory
    from service.core.db.tables import Score

    engine = make_engine(Settings(home=home).db_url)
    with session_factory(engine)() as session:
        rows = session.execute(select(Score.entity_kind, Score.entity_id).distinct()).all()
    engine.dispose()
    return sorted((k, i) for k, i in rows)


def check_bodies(market: Path, n: int = 500) -> list[str]:
    """The market's last ``n`` contracts as registration requests on the state's day, each
    with a fresh contract id (``@@N@@`` is the load generator's counter)."""
    df = pd.read_parquet(market / "contracts.parquet").tail(n)
    bodies = []
    for row in df.to_dict("records"):
        body = {k: v for k, v in row.items() if not k.startswith("status")}
        body = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in body.items()}
        body["contract_id"] = "CBX@@N@@"
        body["registered_date"] = CHECK_DAY
        body["signed_date"] = min(str(body["signed_date"])[:10], CHECK_DAY)
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
