"""The report views filled from the assessment's rows, on both backends: units in both
languages, an unscored indicator drawn at zero, the trend of published years plus the
report's own, and the year's or one institution's reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from service.core.assessments import records, report_data, service
from service.core.assessments.records import NotFound
from service.core.assessments.tables import Assessment
from service.core.reports.contents import TrendPoint
from tests.service.core.assessments.support import BOB, CAROL, GROUP, T0, decide, draft

T1 = T0 + timedelta(days=1)


def test_indicator_lines_read_in_both_languages(sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    with sessions() as session:
        got = report_data.indicator_lines(a, records.result(session, a.id, "I1"))
    staff, trained, *_, credit = got
    assert (staff.code, staff.name_zh, staff.unit, staff.value, staff.score,
            staff.group_median, staff.group_median_score, staff.note_en) == (
        "staff", "从业人员数", "人/persons", 1.0, 10.0, 0.0, 50.0, "note 0")
    assert (trained.code, trained.unit) == ("trained_share", "%")  # one unit stays one
    assert (credit.code, credit.unit, credit.score) == ("credit_points", "分/points", 0.0)


def test_a_report_trend_shows_published_years_and_its_own_year_only(
        sessions: sessionmaker[Session]) -> None:
    never = draft(sessions, 2018)  # a draft of an earlier year that was never published
    draft(sessions, 2019, outcomes={"I1": "pass", "I2": "exit"})
    decide(sessions, lambda s: service.publish(s, 2019, CAROL, 1, T1))
    draft(sessions, 2020)
    with sessions() as session:
        y2019, y2020 = records.require(session, 2019), records.require(session, 2020)
        assert report_data.trend(session, y2020, "I2") == [
            TrendPoint(2019, 35.0, 2, 2, "exit"),
            TrendPoint(2020, 35.0, 2, 3, "warning")]
        assert [p.year for p in report_data.trend(session, y2019, "I2")] == [2019]
        assert never.state == "draft" and [p.year for p in report_data.trend(
            session, session.get_one(Assessment, never.id), "I2")] == [2018, 2019]


def test_reports_of_a_year_and_of_one_institution(sessions: sessionmaker[Session]) -> None:
    draft(sessions, 2020)
    decide(sessions, lambda s: service.adjust(s, 2020, "I2", "pass", "r", BOB, 1, T1))
    with sessions() as session:
        pages, overview = report_data.reports(session, 2020)
        [one], _ = report_data.reports(session, 2020, "I2")
        with pytest.raises(NotFound):
            report_data.reports(session, 2020, "I9")
        with pytest.raises(NotFound):
            report_data.reports(session, 2031)
    assert [(p.institution_id, p.rank, p.outcome, p.adjusted, p.state) for p in pages] == [
        ("I1", 1, "pass", False, "draft"), ("I2", 2, "pass", True, "draft"),
        ("I3", 3, "exit", False, "draft")]
    assert (one.institution_id, one.group, one.reasons_en, one.published_at) == (
        "I2", GROUP, ["I2 outcome warning"], None)
    assert (overview.year, overview.state, overview.published_at) == (2020, "draft", None)
    assert [(s.institution_id, s.group, s.rank, s.group_size, s.total, s.outcome)
            for s in overview.institutions] == [
        ("I1", GROUP, 1, 3, 82.5, "pass"), ("I2", GROUP, 2, 3, 35.0, "pass"),
        ("I3", GROUP, 3, 3, 12.25, "exit")]
