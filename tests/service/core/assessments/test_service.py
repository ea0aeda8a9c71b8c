"""The decisions on an assessment, called as the API calls them, on both backends: an
adjustment with its reason, four-eyes publication against the current draft's editors, the
optimistic lock, the appeal window and its one open appeal, and an appeal decision with the
status of record it writes. Each refusal is asserted by the rule it names."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.core.assessments import records, service
from service.core.assessments.records import Actor, NotFound
from service.core.assessments.tables import (
    Assessment,
    AssessmentEvent,
    AssessmentResult,
    InstitutionStatusRecord,
)
from service.core.db.tables import RiskWarning, Score
from tests.service.core.assessments.support import (
    ALICE,
    BOB,
    CAROL,
    CONFIG,
    DAVE,
    T0,
    decide,
    draft,
    proposal,
    refusal,
)

T1, T2 = T0 + timedelta(hours=1), T0 + timedelta(days=1)  # an adjustment, the publication
WINDOW = 30  # days an outcome may be appealed after publication
DEADLINE = T2 + timedelta(days=WINDOW)
INSTITUTION = Actor("inst-I3", "institution")


def adjust(sessions: sessionmaker[Session], iid: str, outcome: str, by: Actor = BOB,
           version: int = 1, year: int = 2020) -> service.Decision:
    return decide(sessions, lambda s: service.adjust(s, year, iid, outcome, "材料核实 verified",
                                                     by, version, T1))


def publish(sessions: sessionmaker[Session], by: Actor, version: int, year: int = 2020,
            reasons: dict[str, str] | None = None) -> service.Decision:
    return decide(sessions, lambda s: service.publish(s, year, by, version, T2, reasons))


def appeal(sessions: sessionmaker[Session], iid: str, at: datetime = T2,
           by: Actor = INSTITUTION, requested: str | None = "warning", year: int = 2020
           ) -> service.Decision:
    return decide(sessions, lambda s: service.file_appeal(s, year, iid, "漏报 left out",
                                                          requested, by, at, WINDOW))


def judge(sessions: sessionmaker[Session], appeal_id: int, upheld: bool, outcome: str | None,
          by: Actor = DAVE, year: int = 2020) -> service.Decision:
    return decide(sessions, lambda s: service.decide_appeal(s, year, appeal_id, upheld, outcome,
                                                            "复核 reviewed", by, T2))


def test_an_adjustment_records_who_why_and_the_model_outcome_and_moves_the_version(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    done = adjust(sessions, "I2", "pass")
    assert (done.assessment.version, done.assessment.updated_by, done.statuses) == (2, "bob", 0)
    with sessions() as session:
        r = records.result(session, a.id, "I2")
        assert (r.model_outcome, r.outcome, r.adjusted_by, r.adjusted_at) == (
            "warning", "pass", "bob", T1)
        [event] = records.events(session, a.id, "I2")  # the run event names no institution
        assert (event.id, event.kind, event.actor, event.role, event.at, event.reason,
                event.before, event.after, event.detail) == (
            done.event.id, "adjust", "bob", "assessor", T1, "材料核实 verified", "warning",
            "pass", {"model_outcome": "warning"})
    assert refusal(lambda: adjust(sessions, "I2", "pass", version=2)) == "no_change"
    assert refusal(lambda: adjust(sessions, "I3", "warning", version=1)) == "stale_version"
    with pytest.raises(NotFound, match="I9 was not assessed"):
        adjust(sessions, "I9", "pass", version=2)
    with pytest.raises(NotFound, match="no assessment of 2019"):
        adjust(sessions, "I2", "exit", year=2019)


def test_publishing_needs_someone_who_neither_ran_nor_adjusted_the_draft(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    adjust(sessions, "I2", "pass")
    with pytest.raises(records.Conflict, match=r"\(alice, bob\)"):
        publish(sessions, ALICE, 2)
    assert refusal(lambda: publish(sessions, BOB, 2)) == "four_eyes"
    assert refusal(lambda: publish(sessions, CAROL, 1)) == "stale_version"
    done = publish(sessions, CAROL, 2)
    assert (done.statuses, done.event.kind, done.event.actor, done.event.detail) == (
        3, "publish", "carol", {"counts": {"pass": 2, "warning": 0, "exit": 1},
                                "pass_reasons": {}})
    with sessions() as session:
        year = records.require(session, 2020)
        assert (year.state, year.published_by, year.published_at, year.version) == (
            "published", "carol", T2, 3)
        statuses = session.scalars(select(InstitutionStatusRecord).where(
            InstitutionStatusRecord.assessment_id == a.id).order_by(
            InstitutionStatusRecord.institution_id)).all()
    assert [(s.institution_id, s.status, s.year, s.since, s.decided_by) for s in statuses] == [
        ("I1", "active", 2020, T2, "carol"), ("I2", "active", 2020, T2, "carol"),
        ("I3", "exited", 2020, T2, "carol")]
    assert statuses[2].basis == ("assessment 2020 published, outcome exit / "
                                 "2020年度考核发布，结果退出")
    # published: it changes only through appeals
    assert refusal(lambda: publish(sessions, DAVE, 3)) == "published"
    assert refusal(lambda: adjust(sessions, "I3", "warning", version=3)) == "published"


def test_a_rerun_makes_its_runner_the_draft_s_only_editor(
        sessions: sessionmaker[Session]) -> None:
    """The adjustment of a replaced draft is gone with it, so its author may publish the new
    draft, and so may the first runner; the new runner may not."""
    draft(sessions, 2020)
    adjust(sessions, "I2", "pass")
    with sessions() as session:
        assert service.editors(session, records.require(session, 2020)) == {"alice", "bob"}
    draft(sessions, 2020, by=CAROL, now=T1)
    with sessions() as session:
        a = records.require(session, 2020)
        assert service.editors(session, a) == {"carol"}
        assert (a.version, records.result(session, a.id, "I2").outcome) == (3, "warning")
    assert refusal(lambda: adjust(sessions, "I2", "pass", version=2)) == "stale_version"
    assert refusal(lambda: publish(sessions, CAROL, 3)) == "four_eyes"
    assert publish(sessions, BOB, 3).assessment.published_by == "bob"


def test_a_concurrent_change_caught_by_the_update_itself_is_refused_and_writes_nothing(
        sessions: sessionmaker[Session]) -> None:
    """Another assessor commits between this one's read and write: the version check in the
    UPDATE (not the one on the version the client sent) turns it into ``stale_version``."""
    a = draft(sessions, 2020)

    def late(session: Session) -> service.Decision:
        records.require(session, 2020)  # read at version 1
        session.connection().execute(update(Assessment.__table__).where(
            Assessment.__table__.c.id == a.id).values(version=2))  # the other's commit
        return service.adjust(session, 2020, "I2", "pass", "r", BOB, 1, T1)

    assert refusal(lambda: decide(sessions, late)) == "stale_version"
    with sessions() as session:
        # rolled back (the simulated commit shared the transaction, so it went too)
        assert records.require(session, 2020).version == 1
        assert records.result(session, a.id, "I2").outcome == "warning"
        assert session.scalars(select(AssessmentEvent.kind)).all() == ["run"]


def test_an_appeal_is_filed_on_a_published_outcome_within_its_window_one_at_a_time(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    assert refusal(lambda: appeal(sessions, "I3")) == "not_published"
    publish(sessions, CAROL, 1)
    filed = appeal(sessions, "I3", at=DEADLINE)  # the last moment of the window counts
    p = filed.appeal
    assert p is not None
    assert (p.state, p.open_key, p.filed_by, p.filed_at, p.deadline, p.outcome_before,
            p.requested_outcome, p.outcome_after) == (
        "filed", f"{a.id}:I3", "inst-I3", DEADLINE, DEADLINE, "exit", "warning", None)
    assert (filed.event.kind, filed.event.appeal_id, filed.event.before, filed.event.after,
            filed.event.institution_id) == ("appeal", p.id, "exit", "warning", "I3")
    assert refusal(lambda: appeal(sessions, "I3", by=Actor("reg", "regulator"))) == "appeal_open"
    late = DEADLINE + timedelta(microseconds=1)
    with pytest.raises(records.Conflict, match="appeals closed on 2021-04-01 02:00 UTC") as e:
        appeal(sessions, "I2", at=late)
    assert e.value.rule == "appeal_window_closed"
    with pytest.raises(NotFound, match="I9 was not assessed"):
        appeal(sessions, "I9")
    with sessions() as session:
        assert [(x.institution_id, x.state) for x in records.appeals(session, a.id)] == [
            ("I3", "filed")]


def test_an_upheld_appeal_changes_the_outcome_and_the_status_of_record(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    publish(sessions, CAROL, 1)
    filed = appeal(sessions, "I3", by=BOB).appeal  # a regulator or assessor may file it too
    assert filed is not None
    for who in (CAROL, BOB):  # the publisher, the appellant
        assert refusal(lambda who=who: judge(sessions, filed.id, True, "warning", by=who)
                       ) == "four_eyes"
    assert refusal(lambda: judge(sessions, filed.id, True, None)) == "upheld_needs_outcome"
    assert refusal(lambda: judge(sessions, filed.id, True, "exit")) == "upheld_needs_outcome"
    assert refusal(lambda: judge(sessions, filed.id, False, "warning")
                   ) == "rejected_keeps_outcome"
    done = judge(sessions, filed.id, True, "warning")
    assert done.appeal is not None and done.result is not None
    assert (done.appeal.state, done.appeal.open_key, done.appeal.decided_by,
            done.appeal.decided_at, done.appeal.decision_reason, done.appeal.outcome_after) == (
        "upheld", None, "dave", T2, "复核 reviewed", "warning")
    assert (done.result.outcome, done.result.model_outcome, done.result.adjusted_by,
            done.statuses) == ("warning", "exit", "dave", 1)
    assert (done.event.kind, done.event.before, done.event.after, done.event.appeal_id,
            done.event.detail) == ("decide", "exit", "warning", filed.id,
                                   {"decision": "upheld"})
    assert refusal(lambda: judge(sessions, filed.id, True, "pass")) == "appeal_decided"
    with sessions() as session:
        status = records.statuses(session)["I3"]
        assert (status.status, status.decided_by, status.basis) == (
            "warned", "dave", f"appeal {filed.id} upheld: outcome exit → warning / "
                              "申诉成立，结果由exit改为warning")
        assert session.scalar(select(AssessmentResult.outcome).where(
            AssessmentResult.assessment_id == a.id,
            AssessmentResult.institution_id == "I3")) == "warning"


def test_a_rejected_appeal_keeps_the_outcome_and_frees_the_institution_to_appeal_again(
        sessions: sessionmaker[Session]) -> None:
    a = draft(sessions, 2020)
    publish(sessions, CAROL, 1)
    first = appeal(sessions, "I2", requested="pass").appeal
    assert first is not None
    done = judge(sessions, first.id, False, None)
    assert done.appeal is not None
    assert (done.appeal.state, done.appeal.outcome_after, done.statuses) == (
        "rejected", "warning", 0)
    again = appeal(sessions, "I2", requested="pass").appeal
    assert again is not None and again.open_key == f"{a.id}:I2"
    with sessions() as session:
        assert [p.state for p in records.appeals(session, a.id, "I2")] == ["rejected", "filed"]
        assert records.statuses(session)["I2"].basis.startswith("assessment 2020 published")


def test_an_appeal_is_decided_only_in_its_own_year(sessions: sessionmaker[Session]) -> None:
    draft(sessions, 2019)
    publish(sessions, CAROL, 1, year=2019)
    with sessions.begin() as session:  # 2020 published as well, by hand
        a, _ = records.write_draft(session, proposal(2020), CONFIG.indicators, ALICE, T0, {})
        a.state, a.published_at, a.published_by = "published", T2, "carol"
    filed = appeal(sessions, "I3", year=2019).appeal
    assert filed is not None
    with pytest.raises(NotFound, match=f"no appeal {filed.id} in the assessment of 2020"):
        judge(sessions, filed.id, True, "warning", year=2020)
    with pytest.raises(NotFound, match="no appeal 999 in the assessment of 2019"):
        judge(sessions, 999, True, "warning", year=2019)


def _scored(sessions: sessionmaker[Session], iid: str, grade: str, tier: str | None) -> None:
    """A score of ``iid`` at 2020-12-31 (and an older, better one), with a warning of ``tier``."""
    with sessions.begin() as session:
        for day, g in ((date(2020, 6, 30), "A"), (date(2020, 12, 31), grade)):
            session.add(Score(entity_kind="institution", entity_id=iid, as_of=day,
                              model_name="techcredit-credit", model_version="3",
                              probability=0.3, points=530.0, grade=g, reasons_zh=[],
                              reasons_en=[], feature_as_of=day))
        if tier is not None:
            session.add(RiskWarning(entity_kind="institution", entity_id=iid, tier=tier,
                                    reason_codes=["r"], reasons_zh=["理由"], reasons_en=["why"],
                                    as_of=date(2020, 12, 31), model_name="techcredit-credit",
                                    model_version="3"))


def test_a_pass_despite_grade_d_or_a_red_warning_needs_a_written_reason_to_publish(
        sessions: sessionmaker[Session]) -> None:
    _scored(sessions, "I1", "D", "red")  # passes: flagged
    _scored(sessions, "I2", "B", "red")  # warned, not passed: not flagged
    draft(sessions, 2020)
    with sessions() as session:
        rows = {r.institution_id: r for r in records.results(session, records.require(
            session, 2020).id)}
        assert rows["I1"].credit is not None and rows["I1"].credit["grade"] == "D"
        assert rows["I1"].credit["tier"] == "red" and rows["I1"].credit["as_of"] == "2020-12-31"
        assert rows["I3"].credit is None  # never scored
        assert [r.institution_id for r in records.flagged(rows.values())] == ["I1"]
        run = records.events(session, rows["I1"].assessment_id)[0]
        assert run.detail["flagged"] == ["I1"]
    with pytest.raises(records.Conflict, match=r"I1 机构I1 \(credit grade D, red warning\)"):
        publish(sessions, CAROL, 1)
    assert refusal(lambda: publish(sessions, CAROL, 1)) == "reason_required"
    short = {"I1": " ok  "}  # five characters only with the spaces
    assert refusal(lambda: publish(sessions, CAROL, 1, reasons=short)) == "reason_too_short"
    assert refusal(lambda: publish(sessions, CAROL, 1, reasons={"I1": "已核实无误", "I2": "reason"})
                   ) == "reason_not_needed"
    done = publish(sessions, CAROL, 1, reasons={"I1": " 已核实无误 "})  # five characters
    assert done.event.detail["pass_reasons"] == {"I1": "已核实无误"}
    with sessions() as session:
        kept = records.result(session, done.assessment.id, "I1")
        assert kept.pass_reason == "已核实无误"
        assert records.result(session, done.assessment.id, "I2").pass_reason is None


def test_an_adjusted_outcome_lifts_the_flag(sessions: sessionmaker[Session]) -> None:
    _scored(sessions, "I1", "C", "red")
    draft(sessions, 2020)
    adjust(sessions, "I1", "warning")  # bob
    assert publish(sessions, CAROL, 2).statuses == 3
