"""``techcredit assess --json``: the draft's summary as JSON, every field the text formats
(the indicator system's whole sha256, every flagged institution), after the command's own
checks (indicator file, migrated database); the flow itself is tests/pipelines/test_assess.py's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.settings import get_settings
from pipelines import assess
from pipelines.assess import AssessSummary, format_summary
from pipelines.cli.main import app
from service.core.db.engine import make_engine
from service.core.db.migrate import upgrade

SUMMARY = AssessSummary(
    year=2020, by="考核甲", config_version=3, config_sha256="ab" * 32, quota=2,
    counts={"pass": 180, "warning": 12, "exit": 2}, assessed=194, warned_before=9, listed=1,
    replaced=True, version=4, audit_id=321, flagged=tuple(f"I{n:06d}" for n in range(12)))


def test_assess_prints_its_summary_as_json(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("TECHCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TECHCREDIT_DATABASE_URL", url)
    asked = []
    monkeypatch.setattr(assess, "assess_flow", lambda *args: asked.append(args) or SUMMARY)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["assess", "--year", "2020", "--by", "考核甲", "--json"])
        text = CliRunner().invoke(app, ["assess", "--year", "2020", "--by", "考核甲"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert body == {"year": 2020, "by": "考核甲", "config_version": 3,
                    "config_sha256": "ab" * 32, "quota": 2,
                    "counts": {"pass": 180, "warning": 12, "exit": 2}, "assessed": 194,
                    "warned_before": 9, "listed": 1, "replaced": True, "version": 4,
                    "audit_id": 321, "flagged": [f"I{n:06d}" for n in range(12)]}
    assert asked[0][:3] == (2020, "考核甲", None)
    assert text.exit_code == 0 and text.output == format_summary(SUMMARY) + "\n"
    assert "I000011" not in text.output  # the text names ten; the JSON all twelve
