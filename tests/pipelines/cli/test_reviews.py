"""``techcredit reviews --json``: every decision as recorded in MLflow, oldest first, with its
full gate — each check's value at full precision, a figure that could not be computed as
null (strict JSON) — and the same decisions the text lists; ``promote`` of a version that does
not exist is one line, not a traceback."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from models.gate import Check, GateDecision
from models.registry import CREDIT_MODEL, Outcome, record_decision, tracking_for
from pipelines.cli.main import app

AUC = 0.7312345678901234
FAILED = GateDecision((Check("test_auc", AUC, ">= 0.70", True, 4321),
                       Check("score_psi", math.nan, "<= 0.25", False, None)))
PASSED = GateDecision((Check("test_auc", AUC, ">= 0.70", True, 4321),))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_reviews_as_json_hold_each_decision_and_its_gate(home: Path) -> None:
    tracking = tracking_for(get_settings())
    record_decision(tracking, CREDIT_MODEL, "3", reviewer="王审", note="PSI missing",
                    outcome=Outcome.REFUSED, decision=FAILED)
    record_decision(tracking, CREDIT_MODEL, "3", reviewer="王审", note="accepted: 试点",
                    outcome=Outcome.OVERRIDDEN, decision=FAILED)
    record_decision(tracking, CREDIT_MODEL, "4", reviewer="李审", note="reviewed",
                    outcome=Outcome.PROMOTED, decision=PASSED)

    out = CliRunner().invoke(app, ["reviews", "--model", CREDIT_MODEL, "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert [(r["version"], r["outcome"], r["reviewer"], r["gate_passed"]) for r in body] == [
        ("3", "refused", "王审", False), ("3", "overridden", "王审", False),
        ("4", "promoted", "李审", True)]
    first = body[0]
    assert first["model_name"] == CREDIT_MODEL and first["note"] == "PSI missing"
    assert datetime.fromisoformat(first["decided_at"]).tzinfo is not None
    auc, psi = first["gate"]["checks"]
    assert auc == {"name": "test_auc", "value": AUC, "rule": ">= 0.70", "passed": True,
                   "n": 4321, "skipped": ""}
    assert psi["value"] is None and psi["passed"] is False
    assert first["gate"]["passed"] is False and len(first["gate"]["failures"]) == 1
    assert len({r["run_id"] for r in body}) == 3  # three runs of their own

    text = CliRunner().invoke(app, ["reviews", "--model", CREDIT_MODEL])
    assert text.exit_code == 0 and len(text.output.strip().splitlines()) == 1 + len(body)
    assert "accepted: 试点" in text.output and "1 failed" in text.output

    one = json.loads(CliRunner().invoke(app, ["reviews", "--model", CREDIT_MODEL, "--version",
                                              "4", "--json"]).stdout)
    assert [r["outcome"] for r in one] == ["promoted"]
    none = CliRunner().invoke(app, ["reviews", "--model", "another", "--json"])
    assert none.exit_code == 0 and json.loads(none.stdout) == []


def test_promoting_a_version_that_does_not_exist_is_one_line(home: Path) -> None:
    out = CliRunner().invoke(app, ["promote", "techcredit-anomaly", "1", "--reviewer", "王审",
                                   "--note", "reviewed"])
    assert out.exit_code == 2 and isinstance(out.exception, SystemExit), out.output
    assert "Traceback" not in out.output
    # the last line: a fresh tracking database logs its creation before it
    assert out.stderr.strip().splitlines()[-1] == (
        "Error: techcredit-anomaly has no version '1': `techcredit train` registers versions / "
        "无此模型版本")
