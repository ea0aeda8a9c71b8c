"""``techcredit score --contract`` answers what ``POST /api/v1/contracts/check`` answers: the
same ledger, rules, tier and reasons, down to the last digit with ``--json``; the batch form
(``--as-of`` alone) prints its summary as JSON too."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from models.scoring import ModelRef
from pipelines.cli.main import app
from pipelines.scoring import batch
from pipelines.scoring.batch import BatchSummary, format_summary
from pipelines.scoring.side_effects import SideEffects
from service.core.db.engine import make_engine
from service.core.db.migrate import upgrade
from tests.service.web.api.conftest import contract_body, start_api
from tests.trained import Trained, build, copy_home, shared_folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


@pytest.mark.e2e
def test_the_command_line_prints_the_apis_answer(trained: Trained, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = copy_home(trained.settings.home_dir, tmp_path / "home")
    bodies = [contract_body(trained, "CL00000001", row=-2),
              contract_body(trained, "CL00000002", row=-5, amount_yuan=9.0e7)]
    (tmp_path / "two.json").write_text(json.dumps(bodies), "utf-8")
    monkeypatch.setenv("TECHCREDIT_HOME", str(home))
    get_settings.cache_clear()
    try:
        run = CliRunner().invoke(app, ["score", "--contract", str(tmp_path / "two.json"),
                                       "--source", str(trained.source), "--json"])
        text = CliRunner().invoke(app, ["score", "--contract", str(tmp_path / "two.json"),
                                        "--source", str(trained.source)])
    finally:
        get_settings.cache_clear()
    assert run.exit_code == 0, run.output
    printed = json.loads(run.output)
    with_api = start_api("sqlite", f"sqlite:///{tmp_path / 'api.db'}", trained, home=home)
    api = next(with_api)
    try:
        answered = api.post("/api/v1/contracts/check/batch", "office",
                            json={"contracts": bodies}).json()["results"]
    finally:
        with_api.close()
    assert printed == answered  # both registered in turn: the second saw the first
    assert {c["contract_id"] for c in printed} == {"CL00000001", "CL00000002"}
    assert all("tier" in c and "rule_hits" in c for c in printed)
    assert text.exit_code == 0 and "预警 tier" in text.output, text.output
    assert text.output.count("techcredit-anomaly v1 @champion") == 2


SUMMARY = BatchSummary(
    as_of=date(2020, 12, 31), credit=ModelRef("techcredit-credit", "3", "champion"),
    anomaly=ModelRef("techcredit-anomaly", "2", "champion"), rules_version=2, scored=1234,
    skipped=5, grades={"A": 600, "B": 400, "C": 200, "D": 34},
    warnings={"red": 7, "orange": 11, "yellow": 40, "blue": 0}, contracts=4567,
    first_day=date(2020, 1, 1), audit_id=89, effects=SideEffects(False, True, True),
    cases_opened=6)


def test_the_batch_summary_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary the batch flow returns, through the command's own checks (date, rules in
    force, a migrated database); the flow itself is the scoring tests' (test_batch.py)."""
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", url)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    asked = []
    monkeypatch.setattr(batch, "score_batch_flow",
                        lambda *args: asked.append(args) or SUMMARY)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["score", "--as-of", "2020-12-31", "--json"])
        text = CliRunner().invoke(app, ["score", "--as-of", "2020-12-31"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert body == {
        "as_of": "2020-12-31",
        "credit": {"name": "techcredit-credit", "version": "3", "alias": "champion"},
        "anomaly": {"name": "techcredit-anomaly", "version": "2", "alias": "champion"},
        "rules_version": 2, "scored": 1234, "skipped": 5,
        "grades": {"A": 600, "B": 400, "C": 200, "D": 34},
        "warnings": {"red": 7, "orange": 11, "yellow": 40, "blue": 0}, "contracts": 4567,
        "first_day": "2020-01-01", "audit_id": 89,
        "effects": {"backfill": False, "warnings": True, "cases": True},
        "cases_opened": 6, "already_scored": False}
    assert asked[0][:2] == ("2020-12-31", None)
    assert text.exit_code == 0 and text.output == format_summary(SUMMARY) + "\n"
