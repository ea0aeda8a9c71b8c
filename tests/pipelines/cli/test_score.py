"""``techcredit score --contract`` answers what ``POST /api/v1/contracts/check`` answers: the
same ledger, rules, tier and reasons, down to the last digit with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines.cli.main import app
from tests.service.web.api.conftest import contract_body, start_api
from tests.trained import Trained, build, copy_home, shared_folder

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


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
