"""The assessment's reads and the draft's write, on both backends: what a draft stores and what
its re-run replaces, the filters the API and the reports read through, the status of record
that the next year's run and batch scoring trust, the dishonesty list as a decision in force,
and the stored scores an assessment reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.core.assessments import records
from service.core.assessments.records import NotFound
from service.core.assessments.tables import Assessment, AssessmentAppeal, AssessmentEvent
from service.core.cases.tables import Case
from service.core.db.tables import Score
from tests.service.core.assessments.support import (
    ALICE,
    BOB,
    CAROL,
    CONFIG,
    GROUP,
    T0,
    draft,
    lines,
    proposal,
    refusal,
)


def test_a_draft_keeps_the_proposal_and_a_rerun_replaces_its_results(
        sessions: sessionmaker[Session]) -> None:
    first = draft(sessions, 2020)
    assert (first.year, first.state, first.version, first.created_by, first.updated_by,
            first.quota, first.config_sha256) == (2020, "draft", 1, "alice", "alice", 0,
                                                  CONFIG.sha256)
    with sessions() as session:
        i3 = records.result(session, first.id, "I3")
        a = records.require(session, 2020)
        assert (i3.model_outcome, i3.outcome, i3.failed, i3.rank, i3.total, i3.basis,
                i3.adjusted_by) == ("exit", "exit", True, 3, 12.25, ["below_pass_mark"], None)
        assert records.indicator_scores(i3) == list(lines(3))  # the JSON round trip is exact
        assert records.indicator_system(a) == list(CONFIG.indicators)

    later = T0 + timedelta(days=2)
    with sessions.begin() as session:  # another assessor re-runs it: I2 now passes
        a, replaced = records.write_draft(
            session, proposal(2020, {"I1": "pass", "I2": "pass"}, quota=1), CONFIG.indicators,
            BOB, later, {"by": "test"})
    assert replaced and (a.id, a.version, a.created_by, a.created_at, a.quota) == (
        first.id, 2, "bob", later, 1)
    with sessions() as session:
        assert [(r.institution_id, r.outcome) for r in records.results(session, a.id)] == [
            ("I1", "pass"), ("I2", "pass")]
        runs = records.events(session, a.id)
    assert [(e.kind, e.actor, e.reason, e.detail) for e in runs] == [
        ("run", "alice", None,
         {"by": "test", "counts": {"pass": 1, "warning": 1, "exit": 1}, "version": 1,
          "flagged": []}),
        ("run", "bob", "replaced the draft / 重新生成草稿",
         {"by": "test", "counts": {"pass": 2, "warning": 0, "exit": 0}, "version": 2,
          "flagged": []})]


def test_a_published_year_refuses_a_new_draft_and_keeps_its_results(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    with sessions.begin() as session:
        session.get_one(Assessment, a.id).state = "published"
    with sessions() as session:
        assert refusal(lambda: records.write_draft(
            session, proposal(2020, {"I1": "pass"}), CONFIG.indicators, BOB, T0, {})
        ) == "published"
        session.rollback()
        assert len(records.results(session, a.id)) == 3
        assert session.scalars(select(AssessmentEvent.kind)).all() == ["run"]


def test_results_are_read_by_group_rank_and_id_through_each_filter(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    other = draft(sessions, 2019, outcomes={"I1": "exit", "I3": "exit"})
    with sessions() as session:
        def ids(**filters: object) -> list[str]:
            return [r.institution_id for r in records.results(session, a.id, **filters)]

        assert ids() == ["I1", "I2", "I3"]
        assert ids(outcome="exit") == ["I3"]
        assert ids(regions=["440000"]) == ["I2", "I3"]
        assert ids(regions=[]) == []
        assert ids(group=GROUP, institution_id="I2") == ["I2"]
        assert ids(group="enterprise") == []
        counts = records.outcome_counts(session)
        assert counts == {a.id: {"pass": 1, "warning": 1, "exit": 1},
                          other.id: {"pass": 0, "warning": 0, "exit": 2}}
        assert [x.year for x in records.assessments(session, published_only=False)] == [
            2020, 2019]
        assert records.assessments(session, published_only=True) == []
        with pytest.raises(NotFound, match="I9 was not assessed in this year"):
            records.result(session, a.id, "I9")
        with pytest.raises(NotFound, match="no assessment of 2031"):
            records.require(session, 2031)


def test_a_trend_is_oldest_first_and_hides_drafts_when_asked(
        sessions: sessionmaker[Session]) -> None:
    draft(sessions, 2020, outcomes={"I3": "warning"})
    old = draft(sessions, 2018)
    draft(sessions, 2019, outcomes={"I1": "pass", "I2": "warning"})
    with sessions.begin() as session:
        session.get_one(Assessment, old.id).state = "published"
    with sessions() as session:
        every = records.trend(session, "I3", published_only=False)
        shown = records.trend(session, "I3", published_only=True)
    assert [(a.year, a.state, r.outcome) for a, r in every] == [
        (2018, "published", "exit"), (2020, "draft", "warning")]
    assert [(a.year, r.outcome) for a, r in shown] == [(2018, "exit")]


def test_the_status_of_record_is_the_latest_decision_of_the_latest_year(
        sessions: sessionmaker[Session]) -> None:
    y2019, y2020 = draft(sessions, 2019), draft(sessions, 2020)
    with sessions.begin() as session:
        a19, a20 = session.get_one(Assessment, y2019.id), session.get_one(Assessment, y2020.id)
        records.record_status(session, a19, "I1", "exit", CAROL, T0, "published 2019")
        records.record_status(session, a19, "I2", "warning", CAROL, T0, "published 2019")
        records.record_status(session, a20, "I1", "pass", CAROL, T0, "published 2020")
        session.flush()  # an appeal on the older year is decided after the newer year
        records.record_status(session, a19, "I1", "warning", BOB, T0, "appeal 2019")
    with sessions() as session:
        now = records.statuses(session)
        before_2020 = records.statuses(session, before_year=2020)
        assert records.statuses(session, before_year=2019) == {}
    assert {i: (r.status, r.year, r.decided_by, r.basis) for i, r in now.items()} == {
        "I1": ("active", 2020, "carol", "published 2020"),
        "I2": ("warned", 2019, "carol", "published 2019")}
    assert {i: (r.status, r.basis) for i, r in before_2020.items()} == {
        "I1": ("warned", "appeal 2019"), "I2": ("warned", "published 2019")}


def _case(subject_kind: str, subject_id: str, state: str, listed_on: date) -> Case:
    at = datetime(2019, 1, 1, tzinfo=UTC)
    return Case(subject_kind=subject_kind, subject_id=subject_id, state=state, source="manual",
                opened_by="regulator", opened_at=at, updated_at=at, evidence=[],
                listed_on=listed_on)


def test_the_dishonesty_list_counts_institutions_listed_by_the_day_and_not_yet_repaired(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add_all([
            _case("institution", "I1", "listed", date(2020, 6, 1)),
            _case("institution", "I2", "repair_requested", date(2020, 3, 1)),
            _case("institution", "I3", "repair_denied", date(2020, 1, 1)),
            _case("institution", "I4", "repaired", date(2019, 1, 1)),
            _case("institution", "I5", "removed", date(2019, 1, 1)),
            _case("institution", "I6", "listed", date(2021, 2, 1)),
            _case("broker", "B1", "listed", date(2020, 1, 1))])
    with sessions() as session:
        assert records.listed_institutions(session, date(2020, 12, 31)) == {"I1", "I2", "I3"}
        assert records.listed_institutions(session, date(2021, 2, 1)) == {
            "I1", "I2", "I3", "I6"}


def _score(kind: str, entity_id: str, as_of: date, version: str, points: float) -> Score:
    return Score(entity_kind=kind, entity_id=entity_id, as_of=as_of, model_name="credit",
                 model_version=version, probability=0.1, points=points, grade="B",
                 reasons_zh=[], reasons_en=[], feature_as_of=as_of)


def test_institution_scores_by_a_day_keep_the_newest_row_of_each_date(
        sessions: sessionmaker[Session]) -> None:
    end, later = date(2020, 12, 31), date(2021, 1, 31)
    with sessions.begin() as session:
        for row in (_score("institution", "I1", end, "1", 600.0),
                    _score("institution", "I2", end, "1", 550.0),
                    _score("institution", "I1", end, "2", 640.0),  # re-scored by a new version
                    _score("institution", "I1", later, "2", 700.0),
                    _score("broker", "B1", end, "1", 500.0)):
            session.add(row)
            session.flush()  # ids in the order written
    with sessions() as session:
        frame = records.institution_scores(session, end)
    assert list(frame.columns) == ["entity_id", "as_of", "points"]
    assert sorted(frame.itertuples(index=False, name=None)) == [
        ("I1", end, 640.0), ("I2", end, 550.0)]


def test_only_an_open_appeal_is_found_as_open(sessions: sessionmaker[Session]) -> None:
    """The open appeal the filing rule looks for is the one still ``filed``."""
    a = draft(sessions, 2020)
    with sessions.begin() as session:
        for state, key in (("rejected", None), ("filed", f"{a.id}:I3")):
            session.add(AssessmentAppeal(
                assessment_id=a.id, institution_id="I3", state=state, open_key=key,
                filed_by=ALICE.user, filed_at=T0, reason="r", deadline=T0,
                outcome_before="exit"))
    with sessions() as session:
        found = records.open_appeal(session, a.id, "I3")
        assert found is not None and (found.state, found.open_key) == ("filed", f"{a.id}:I3")
        assert records.open_appeal(session, a.id, "I2") is None
        assert [p.state for p in records.appeals(session, a.id, "I3")] == ["rejected", "filed"]
        assert [p.state for p in records.appeals(session, a.id, state="rejected")] == [
            "rejected"]
