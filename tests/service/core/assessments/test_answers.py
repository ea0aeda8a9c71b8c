"""The API's answers built from the assessment's rows, on both backends: the appeal deadline
only once published, a result with its own decisions only, its indicators beside their
definitions, and a trend that shows drafts only to those who may see them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from service.core.assessments import answers, records, service
from tests.service.core.assessments.support import BOB, CAROL, CONFIG, GROUP, T0, decide, draft

T1 = T0 + timedelta(days=1)


def test_the_appeal_deadline_exists_once_the_year_is_published(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    out = answers.assessment_out(a, {"pass": 1, "warning": 1, "exit": 1}, 30)
    assert (out.year, out.state, out.version, out.appeal_deadline, out.published_by,
            out.counts) == (2020, "draft", 1, None, None, {"pass": 1, "warning": 1, "exit": 1})
    published = decide(sessions, lambda s: service.publish(s, 2020, BOB, 1, T1)).assessment
    out = answers.assessment_out(published, {}, 30)
    assert (out.state, out.published_by, out.published_at, out.appeal_deadline) == (
        "published", "bob", T1, T1 + timedelta(days=30))


def test_a_result_answer_carries_its_own_decisions_and_the_years_the_reader_may_see(
        sessions: sessionmaker[Session]) -> None:
    draft(sessions, 2019)
    decide(sessions, lambda s: service.publish(s, 2019, CAROL, 1, T1))
    a = draft(sessions, 2020)
    for iid, outcome, version in (("I3", "warning", 1), ("I2", "pass", 2)):
        decide(sessions, lambda s, iid=iid, outcome=outcome, version=version: service.adjust(
            s, 2020, iid, outcome, f"reason {iid}", BOB, version, T1 + timedelta(hours=version)))
    with sessions() as session:
        r = records.result(session, a.id, "I3")
        year = records.require(session, 2020)
        seen = answers.result_out(session, year, r, published_only=True)
        every = answers.result_out(session, year, r, published_only=False)
    assert (seen.year, seen.state, seen.version, seen.report_year) == (2020, "draft", 3, 2019)
    row = seen.result
    assert (row.institution_id, row.group, row.rank, row.total, row.model_outcome, row.outcome,
            row.adjusted, row.basis) == ("I3", GROUP, 3, 12.25, "exit", "warning", True,
                                         ["below_pass_mark"])
    assert [(e.kind, e.actor, e.reason, e.before, e.after) for e in seen.events] == [
        ("adjust", "bob", "reason I3", "exit", "warning")]
    assert seen.appeals == []
    assert [(i.code, i.value, i.score, i.weight, i.unit_en) for i in seen.indicators[:2]] == [
        ("staff", 3.0, 30.0, 0.05, "persons"), ("trained_share", 4.0, 31.0, 0.1, "%")]
    assert [i.code for i in seen.indicators] == [i.code for i in CONFIG.indicators]
    assert seen.indicators[-1].score is None  # no stored credit score: left out, not zero
    assert [(t.year, t.state, t.outcome) for t in seen.trend] == [(2019, "published", "exit")]
    assert [(t.year, t.state, t.outcome) for t in every.trend] == [
        (2019, "published", "exit"), (2020, "draft", "warning")]
