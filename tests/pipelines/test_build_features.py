"""End to end: ``techcredit features`` writes the month-end tables and labels of a small market."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from features.point_in_time.build import build_features
from features.settings import Settings
from features.synthetic.market import Market
from pipelines.build_features import read_panel

pytestmark = pytest.mark.e2e


def test_cli_builds_month_end_panel(
    small_market: Market, small_market_dir: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {
        k: v
        for k, v in os.environ.items()
        # a clean settings environment, but the test run's shared Prefect server
        if not k.startswith(("TECHCREDIT_", "MLFLOW_", "PREFECT_")) or k == "PREFECT_API_URL"
    }
    env["TECHCREDIT_HOME"] = str(home)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli.main",
            "features",
            "--month-ends",
            "2019-11:2019-12",
            "--source",
            str(small_market_dir),
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for kind in ("institution", "broker", "contract"):
        for d in ("2019-11-30", "2019-12-31"):
            assert (home / "features" / kind / f"as_of={d}.parquet").exists()
            assert (home / "features" / "labels" / kind / f"as_of={d}.parquet").exists()
    settings = Settings(home=home)
    inst = read_panel("institution", settings)
    assert set(inst["as_of"]) == {pd.Timestamp("2019-11-30"), pd.Timestamp("2019-12-31")}
    assert inst["y_12m"].notna().all() and inst["label_complete"].all()
    contracts = read_panel("contract", settings)
    dec = contracts[contracts["as_of"] == pd.Timestamp("2019-12-31")]
    assert dec["registered_date"].min() >= pd.Timestamp("2019-12-01")
    # the panel path writes exactly what build_features gives for one date
    direct = build_features(small_market.tables, "2019-12-31")["contract"]
    written = pd.read_parquet(home / "features" / "contract" / "as_of=2019-12-31.parquet")
    pd.testing.assert_frame_equal(written, direct, check_dtype=False)
    assert {"y_false_found", "is_irregular"} <= set(contracts.columns)
