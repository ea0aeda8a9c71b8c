"""The demo's case walk on both backends: it takes the institution warning case of the lowest
score from flagged to repaired through the case service (four eyes on determination and
listing, the objection window and the minimum publication period passed on its own clock),
leaves the other cases alone, and says so; with no warning case it walks nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings
from pipelines.demo.cases import APPROVER, INVESTIGATOR, SUBJECT, Walk, demo_cases, walk
from service.core.cases import records
from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import CaseSource
from service.core.cases.policy import CasePolicy
from service.core.cases.tables import Case
from service.core.db.tables import AuditEntry

START = date(2020, 12, 31)  # the synthetic market's last day; the walk starts the next workday
POLICY = CasePolicy.from_settings(Settings())
OPENED = datetime(2020, 12, 31, 8, 0, tzinfo=UTC)


def _open(sessions: sessionmaker[Session], kind: str, subject_id: str, source: CaseSource,
          points: float | None) -> int:
    with sessions.begin() as session:
        return records.open_case(
            session, records.Subject(kind, subject_id, f"主体{subject_id}", "310000"), None,
            source, records.Actor("system", None), OPENED, "red warning",
            [{"kind": "warning"}], records.WarningLink(0, ("techcredit-credit", "1"), points)
        ).case.id


def _warnings(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Three flagged warning cases: the broker scores lowest but is not an institution."""
    return {subject: _open(sessions, kind, subject, CaseSource.warning, points)
            for kind, subject, points in (("institution", "I-HIGH", 420.0),
                                          ("institution", "I-LOW", 310.0),
                                          ("broker", "B-LOWEST", 200.0))}


def test_the_lowest_scored_institution_case_is_walked_from_flagged_to_repaired(
        sessions: sessionmaker[Session]) -> None:
    cases = _warnings(sessions)
    done = walk(sessions, START, POLICY, WorkCalendar())
    assert done == Walk(
        case_id=cases["I-LOW"], subject_id="I-LOW",
        states=["investigating", "investigating", "determined", "notified", "notified",
                "listed", "repair_requested", "repair_requested", "repaired"],
        listed_on=date(2021, 1, 26),  # the workday after the 15-workday objection window
        repaired_on=date(2021, 4, 11),  # a week after the 3-month minimum of general conduct
        open_cases=3)
    with sessions() as session:
        case = session.get_one(Case, cases["I-LOW"])
        assert (case.state, case.conduct, case.severity, case.decided_on, case.objection_due,
                case.listed_on, case.repair_from, case.publication_ends, case.published,
                case.active_key) == (
            "repaired", "false_registration", "general", date(2021, 1, 4), date(2021, 1, 25),
            date(2021, 1, 26), date(2021, 4, 4), date(2022, 1, 4), False, None)
        [measure] = records.measures(session, case.id)
        assert (measure.measure, measure.starts, measure.ends, measure.lifted_reason) == (
            "restrict_funding", date(2021, 1, 26), date(2022, 1, 4), "case repaired")
        [evidence] = records.files(session, case.id)
        assert (evidence.uploaded_by, evidence.content.decode()) == (
            SUBJECT.user, "已退回违规享受的税收优惠并完成整改。")
        events = records.events(session, case.id)
        assert [(e.action, e.actor) for e in events] == [
            ("open", "system"), ("investigate", INVESTIGATOR.user),
            ("propose:determine", INVESTIGATOR.user), ("determine", APPROVER.user),
            ("notify", INVESTIGATOR.user), ("propose:list", INVESTIGATOR.user),
            ("list", APPROVER.user), ("add_measure", APPROVER.user),
            ("attach_file", SUBJECT.user), ("request_repair", SUBJECT.user),
            ("propose:repair", INVESTIGATOR.user), ("repair", APPROVER.user)]
        assert events[-3].file_ids == [evidence.id]
        audited = {e.detail["event_id"]: e.action for e in session.scalars(select(AuditEntry))}
        steps = {e.id: f"case.{e.action}" for e in events
                 if e.action not in ("open", "add_measure", "attach_file")}
        assert audited == steps  # every step of the walk is on the audit log
        assert {s: session.get_one(Case, i).state for s, i in cases.items()} == {
            "I-HIGH": "flagged", "I-LOW": "repaired", "B-LOWEST": "flagged"}


def test_without_a_warning_case_of_an_institution_nothing_is_walked(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """A case a regulator opened by hand has no score to rank by and is not the demo's."""
    _open(sessions, "institution", "I-MANUAL", CaseSource.manual, None)
    _open(sessions, "broker", "B1", CaseSource.warning, 200.0)
    said: list[str] = []
    demo_cases(Settings(home=tmp_path, database={"url": db_url}), START, said.append)
    assert said == ["no warning opened a case / 无预警立案"]
    with sessions() as session:
        assert set(session.scalars(select(Case.state))) == {"flagged"}


def test_the_demo_says_which_case_it_walked_and_where_to_read_it(
        db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    case_id = _warnings(sessions)["I-LOW"]
    said: list[str] = []
    demo_cases(Settings(home=tmp_path, database={"url": db_url}), START, said.append)
    assert said == [
        f"3 flagged cases from warnings; case {case_id} (I-LOW) walked: flagged → investigating "
        "→ determined → notified → listed → repair_requested → repaired",
        f"listed 2021-01-26, repaired 2021-04-11; see GET /api/v1/cases/{case_id} (events, "
        "evidence, measures)"]
