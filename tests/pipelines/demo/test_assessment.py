"""The demo's assessment on both backends: the draft one demo assessor ran is published by the
other (four eyes), every institution gets its status of record, the publication is audited as
the demo's, and the reports are written in both languages, as HTML alone when no Chromium can
print them, saying why.

The draft itself is the assessment flow's (a Prefect flow, tested in tests/pipelines/
test_assess.py): here it is written by the flow's own last step, ``pipelines.assess.write``,
from the hand-made draft of the assessment core's tests, so that no flow runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings, get_settings
from pipelines.assess import AssessSummary, Inputs, write
from pipelines.demo import assessment
from pipelines.demo.people import ensure_people
from service.core.assessments import records
from service.core.db.engine import make_engine
from service.core.db.tables import AuditEntry
from tests.service.core.assessments.support import CONFIG, proposal

NOTHING = Inputs(pd.DataFrame(), frozenset(), frozenset(), frozenset())


@pytest.fixture
def no_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Neither a configured Chromium nor one on PATH (printing PDFs would take seconds)."""
    monkeypatch.setenv("TECHCREDIT_CHROMIUM_PATH", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _drafted(year: int, by: str, settings: Settings) -> AssessSummary:
    """The assessment flow's result, without the flow."""
    engine = make_engine(settings.db_url)
    try:
        return write(engine, CONFIG, proposal(year), NOTHING, by)
    finally:
        engine.dispose()


def test_the_demo_publishes_with_a_second_assessor_and_writes_the_reports(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path, no_chromium: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path, database={"url": db_url})
    ensure_people(settings)  # as the demo does before: the runner must be an assessor
    monkeypatch.setattr(assessment, "assess_flow", _drafted)
    said: list[str] = []
    assessment.demo_assessment(settings, 2020, said.append)

    folder = tmp_path / "reports" / "assessment-2020"
    assert said[0].startswith("$ techcredit assess --year 2020 --by demo-assessor-1\n"
                              "年度考核 annual assessment 2020: 草稿 draft v1, run by "
                              "demo-assessor-1\n")
    assert said[1:] == [
        "发布 published by demo-assessor-2 (four eyes: run by demo-assessor-1); "
        "3 institution statuses recorded; 0 flagged passes published with a written reason / "
        "逐一填写通过理由",
        f"PDF skipped: no Chromium at {tmp_path / 'no-chromium'} nor on PATH: install "
        "Debian's chromium (make system, or apt-get install chromium)",
        f"考核报告 reports: 8 files in {folder}"]
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{stem}.{lang}.html" for stem in ("I1-2020", "I2-2020", "I3-2020", "year-2020")
        for lang in ("en", "zh")]
    with sessions() as session:
        year = records.require(session, 2020)
        assert (year.state, year.created_by, year.published_by, year.version) == (
            "published", "demo-assessor-1", "demo-assessor-2", 2)
        assert {i: s.status for i, s in records.statuses(session).items()} == {
            "I1": "active", "I2": "warned", "I3": "exited"}
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment.publish")).one()
    assert (entry.actor, entry.role, entry.source, entry.outcome, entry.detail) == (
        "demo-assessor-2", "assessor", "demo", "ok",
        {"year": 2020, "statuses": 3, "pass_reasons": {}})
