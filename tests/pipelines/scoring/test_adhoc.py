"""Scoring from the stored artifacts of a trained tiny market: equal to training, no refit."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from models.contract_input import CHECK_COLUMNS
from models.loading import load_scorer
from pipelines.cli.main import app
from pipelines.scoring.adhoc import score_entity_at
from pipelines.training.panel import credit_frame, read_tables
from tests.trained import Trained, build, shared_folder

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


def _contracts(trained: Trained) -> pd.DataFrame:
    return pd.read_parquet(trained.source / "contracts.parquet")


@pytest.fixture(autouse=True)
def no_refit(trained: Trained, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring must never fit a booster: any call to lightgbm.train fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("lightgbm.train called while scoring")

    monkeypatch.setattr(lightgbm, "train", refuse)


@pytest.fixture
def cli_home(trained: Trained, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHCREDIT_HOME", str(trained.settings.home))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_scores_from_stored_artifacts_equal_the_training_panel(trained: Trained) -> None:
    scorer = load_scorer(trained.settings)
    assert scorer.credit_ref.alias == "champion" and scorer.anomaly_ref.version == "1"
    # the training-time code, fed the stored scores, rebuilds the credit panel
    panel = credit_frame(trained.settings, read_tables(trained.settings, trained.source),
                         scorer.stored)
    at = panel[panel["as_of"] == pd.Timestamp("2019-06-30")]
    for kind, prefix in (("institution", "inst"), ("broker", "brk")):
        # the entity with the most anomaly mass: its aggregates matter to the score
        rows = at[at["entity_kind"] == kind]
        row = rows.sort_values(f"{prefix}_anomaly_expected_all").iloc[-1:]
        assert row[f"{prefix}_anomaly_expected_all"].iloc[0] > 0
        expected = float(scorer.credit.predict(row)[0])
        got = score_entity_at(trained.settings, row["entity_id"].iloc[0], "2019-06-30",
                              trained.source)
        assert got.kind == kind and got.probability == pytest.approx(expected, rel=1e-9)
        assert got.grade in "ABCD" and got.model.alias == "champion"
        assert all(r.points > 0 for r in got.reasons)  # only factors that raised the risk
        other = "brk_" if kind == "institution" else "inst_"
        assert not any(r.feature.startswith(other) for r in got.reasons)


def test_an_unlabelled_latest_month_scores_with_new_contracts(trained: Trained) -> None:
    scorer = load_scorer(trained.settings, version="1")
    assert scorer.credit_ref.alias is None
    # the stored scores end with the labelled contracts; 2020 has no labels yet
    assert scorer.stored["registered_date"].max() < pd.Timestamp("2020-01-01")
    c = _contracts(trained)
    busiest = c.loc[pd.to_datetime(c["registered_date"]).dt.year == 2020, "institution_id"
                    ].value_counts().index[0]
    late = score_entity_at(trained.settings, busiest, "2020-12-31", trained.source, version="1")
    assert 0 < late.probability < 1 and late.grade in "ABCD"
    assert late.as_of == pd.Timestamp("2020-12-31") and late.model.label() == (
        "techcredit-credit v1 (by version)")


def _cli(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, ["score", *args])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    return out.exit_code, out.output


@pytest.mark.usefixtures("cli_home")
def test_cli_prints_score_and_refuses_bad_input_in_one_line(trained: Trained) -> None:
    src = ["--source", str(trained.source)]
    code, text = _cli("--entity", "I000001", "--as-of", "2020-06-30", *src)
    assert code == 0, text
    assert "信用分 score" in text and "grade" in text and "techcredit-credit v1 @champion" in text
    assert "techcredit-anomaly v1" in text and "主要原因 top reasons" in text
    for args, message in [
        (["--entity", "I999999", "--as-of", "2020-06-30"], "unknown entity 'I999999'"),
        (["--entity", "I000001", "--as-of", "2031-01-31"], "is outside the data"),
        (["--entity", "I000001", "--as-of", "June"], "--as-of must look like"),
        (["--entity", "I000001", "--as-of", "2020-06-30", "--alias", "gold"],
         "has no 'gold' version yet"),
    ]:
        code, text = _cli(*args, *src)
        assert code == 2 and len(text.strip().splitlines()) == 1 and message in text, text


@pytest.mark.usefixtures("cli_home")
def test_cli_checks_a_contract_file_and_refuses_a_malformed_one(
    trained: Trained, tmp_path: Path
) -> None:
    c = _contracts(trained)
    new = c[pd.to_datetime(c["registered_date"]) >= pd.Timestamp("2020-11-01")].head(3)
    columns = [col.name for col in CHECK_COLUMNS]
    new[columns].to_csv(tmp_path / "contracts.csv", index=False)
    code, text = _cli("--contract", str(tmp_path / "contracts.csv"), "--source",
                      str(trained.source))
    assert code == 0, text
    lines = [line for line in text.splitlines() if "anomaly probability" in line]
    assert [line.split()[0] for line in lines] == new["contract_id"].tolist()
    assert text.count("techcredit-anomaly v1 @champion") == 3
    one = json.loads(new[columns].head(1).to_json(orient="records", date_format="iso"))[0]
    (tmp_path / "one.json").write_text(json.dumps(one), "utf-8")
    code, text = _cli("--contract", str(tmp_path / "one.json"), "--source", str(trained.source))
    assert code == 0 and text.startswith(one["contract_id"]), text
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    new[columns].drop(columns="amount_yuan").to_csv(tmp_path / "short.csv", index=False)
    wrong = new[columns].assign(registered_date=["2020-11-02", "yesterday", "2020-11-03"])
    wrong.to_csv(tmp_path / "wrong.csv", index=False)
    for name, message in [("bad.json", "not a readable contract file"),
                          ("short.csv", "missing contract columns ['amount_yuan']"),
                          ("wrong.csv", "contract 2: registered_date = 'yesterday'")]:
        code, text = _cli("--contract", str(tmp_path / name), "--source", str(trained.source))
        assert code == 2 and len(text.strip().splitlines()) == 1 and message in text, text
