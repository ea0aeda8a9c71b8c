"""End to end: ``techcredit train --features FILE --target y``, ``promote``, ``reviews``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines.cli.main import app
from tests.known_signal import credit_table

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "pipelines.cli.main"]


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        # a clean settings environment, but the test run's shared Prefect server
        if not k.startswith(("TECHCREDIT_", "MLFLOW_", "PREFECT_")) or k == "PREFECT_API_URL"
    }
    env["TECHCREDIT_HOME"] = str(home)
    return subprocess.run(
        CLI + args,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[3],
    )


def test_train_any_table_then_gate_refuses_and_override_promotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "credit.csv"
    credit_table(2500, seed=4).drop(columns=["entity_id"]).to_csv(table, index=False)
    home = tmp_path / "home"
    out = _run(
        [
            "train",
            "--features",
            str(table),
            "--target",
            "y",
            "--time",
            "as_of",
            "--segment",
            "region",
        ],
        home,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("external-credit v1") and "out-of-time" in lines[0]
    lgbm = next(line for line in lines if line.startswith("lightgbm"))
    base = next(line for line in lines if line.startswith("scorecard baseline"))
    assert 0.6 < float(lgbm.split()[1]) <= 1 and 0.5 < float(base.split()[2]) <= 1
    assert (home / "mlflow.db").exists()
    assert (home / "mlartifacts" / "techcredit-external" / "external-credit").is_dir()

    # promote in-process (the CLI's import cost is paid once above)
    for k, v in {
        "TECHCREDIT_HOME": str(home),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home}/mlflow.db",
        "PREFECT_HOME": str(home / "prefect"),
        "TECHCREDIT_GATE_MIN_AUC": "0.99",
    }.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        args = ["promote", "external-credit", "1", "--reviewer", "张三", "--note", "too weak"]
        refused = CliRunner().invoke(app, args)
        assert refused.exit_code == 2 and "fails the review gate" in refused.output
        forced = CliRunner().invoke(app, [*args[:-1], "pilot only", "--override"])
        assert forced.exit_code == 0, forced.output
        assert "is champion (gate overridden: test_auc" in forced.output
        history = CliRunner().invoke(app, ["reviews", "--model", "external-credit"])
        assert history.exit_code == 0, history.output
        rows = history.output.splitlines()[1:]
        assert [r.split()[3] for r in rows] == ["refused", "overridden"]
        assert "too weak" in rows[0] and "pilot only" in rows[1]

        # nothing of this went near the production names or their experiment
        from mlflow import MlflowClient

        client = MlflowClient(f"sqlite:///{home}/mlflow.db")
        assert {m.name for m in client.search_registered_models()} == {"external-credit"}
        assert client.get_experiment_by_name("techcredit") is None
        assert client.get_experiment_by_name("techcredit-external/external-credit") is not None
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("name", ["techcredit-credit", "techcredit-anomaly", " Techcredit-Credit"])
def test_train_on_a_table_refuses_the_production_names(tmp_path: Path, name: str) -> None:
    table = tmp_path / "credit.csv"
    table.write_text("y,x\n0,1\n1,2\n", encoding="utf-8")
    out = CliRunner().invoke(
        app, ["train", "--features", str(table), "--target", "y", "--name", name]
    )
    assert out.exit_code == 2 and isinstance(out.exception, SystemExit)  # no traceback
    assert len(out.output.strip().splitlines()) == 1 and "production model name" in out.output
    assert not (tmp_path / "mlflow.db").exists()


def test_external_model_name_defaults_to_the_file_stem() -> None:
    from models.registry import external_model_name

    assert external_model_name(Path("data/My Credit_2024.csv")) == "external-my-credit-2024"
    assert external_model_name(Path("x.csv"), "bank-pilot") == "bank-pilot"
    with pytest.raises(ValueError, match="production"):
        external_model_name(Path("x.csv"), "TECHCREDIT-ANOMALY")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "must be binary 0/1, found values ['bad', 'good']; for a text target"),
        (["--bad", "default"], "the bad value 'default' must be one of exactly two values"),
        (["--time", "month"], "time column 'month' is not in credit.csv"),
    ],
)
def test_a_bad_target_or_column_is_one_line_before_any_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    table = tmp_path / "credit.csv"
    table.write_text("status,x\nbad,1\ngood,2\ngood,3\n", encoding="utf-8")
    out = CliRunner().invoke(
        app, ["train", "--features", str(table), "--target", "status", *args]
    )
    assert out.exit_code == 2 and isinstance(out.exception, SystemExit)  # no traceback
    assert len(out.output.strip().splitlines()) == 1 and message in out.output
    assert not (tmp_path / "home" / "mlflow.db").exists()


def test_a_text_target_is_mapped_by_its_bad_value(tmp_path: Path) -> None:
    from pipelines.training.run import external_table

    table = tmp_path / "credit.csv"
    table.write_text("status,x\nbad,1\ngood,2\ngood,3\n", encoding="utf-8")
    df = external_table(table, "status", None, "bad")
    assert df["status"].tolist() == [1, 0, 0]
