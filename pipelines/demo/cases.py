"""The demo's dishonesty case: one case a warning opened, walked by two demo regulators and the
subject through investigation, determination, notice, listing, joint punishment and credit
repair, with every step through the same service functions the API calls.

The demo world's "today" is the end of the synthetic market, so the demo moves its clock
forward through the legal windows (the objection window in working days, the minimum
publication period) instead of waiting for them; each event records the day it happened on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from features.settings import Settings
from service.core.cases import records, service
from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import CaseSource, CaseState
from service.core.cases.machine import Action
from service.core.cases.policy import CasePolicy
from service.core.cases.tables import Case
from service.core.db.engine import make_engine, session_factory

INVESTIGATOR = records.Actor("demo-investigator 演示核查员", "regulator")
APPROVER = records.Actor("demo-approver 演示审批人", "regulator")
SUBJECT = records.Actor("demo-subject 演示当事机构", "institution")


@dataclass(frozen=True)
class Walk:
    case_id: int
    subject_id: str
    states: list[str]
    listed_on: date
    repaired_on: date
    open_cases: int


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # noon in Beijing


def walk(sessions: sessionmaker[Session], start: date, policy: CasePolicy,
         calendar: WorkCalendar) -> Walk | None:
    """Walk the warning case of the lowest score; None when no warning opened a case."""
    with sessions() as session:
        case_id = session.scalar(select(Case.id).where(
            Case.source == CaseSource.warning.value, Case.state == CaseState.flagged.value,
            Case.subject_kind == "institution").order_by(Case.score_points, Case.id).limit(1))
        open_cases = len(session.scalars(select(Case.id).where(
            Case.state == CaseState.flagged.value)).all())
    if case_id is None:
        return None
    day = calendar.add_workdays(start, 1).day
    states: list[str] = []

    def step(action: Action, actor: records.Actor, **given: object) -> Case:
        outcome = service.act(sessions, case_id, action, actor, day, _noon(day),
                              records.ActionInput(**given), policy, calendar, "demo")
        states.append(outcome.case.state)
        return outcome.case

    def both(action: Action, **given: object) -> Case:  # four eyes: propose, then approve
        step(action, INVESTIGATOR, **given)
        return step(action, APPROVER, reason="approved / 同意")

    step(Action.investigate, INVESTIGATOR, reason="red warning: contracts under review")
    case = both(Action.determine, reason="registered contracts without real transfer",
                conduct="false_registration", severity="general",
                basis="《技术合同认定登记管理办法》", decision_number="演示〔2021〕1号")
    case = step(Action.notify, INVESTIGATOR, reason="notice of determination served")
    assert case.objection_due is not None
    day = calendar.add_workdays(case.objection_due, 1).day
    case = both(Action.list, reason="no objection within the window / 异议期满无异议")
    listed_on = day
    with sessions() as session, session.begin():
        records.add_measure(session, session.get(Case, case_id), "restrict_funding",
                          "科技部 Ministry of Science and Technology", day, case.publication_ends,
                          APPROVER, _noon(day))
    assert case.repair_from is not None
    day = case.repair_from
    with sessions() as session, session.begin():
        report = records.add_file(session, session.get(Case, case_id), "整改报告 remediation.txt",
                                "text/plain", "已退回违规享受的税收优惠并完成整改。".encode(),
                                SUBJECT, _noon(day))
        file_id = report.id
    step(Action.request_repair, SUBJECT, reason="conduct corrected",
         remediation="refunded the tax relief", commitment=True, file_ids=(file_id,))
    day += timedelta(days=7)
    both(Action.repair, reason="remediation verified / 整改到位")
    return Walk(case_id, case.subject_id, states, listed_on, day, open_cases)


def demo_cases(settings: Settings, start: date, echo: Callable[[str], None]) -> None:
    engine = make_engine(settings.db_url)
    try:
        done = walk(session_factory(engine), start, CasePolicy.from_settings(settings),
                    WorkCalendar())
    finally:
        engine.dispose()
    if done is None:
        echo("no warning opened a case / 无预警立案")
        return
    echo(f"{done.open_cases} flagged cases from warnings; case {done.case_id} "
         f"({done.subject_id}) walked: flagged → {' → '.join(dict.fromkeys(done.states))}")
    echo(f"listed {done.listed_on}, repaired {done.repaired_on}; see "
         f"GET /api/v1/cases/{done.case_id} (events, evidence, measures)")
