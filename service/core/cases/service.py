"""Case work as transactions: each step writes the case, its events and its audit entries in
one commit, so the audit log never claims a step the case does not show, nor the reverse.

Also the two steps nobody clicks: cases opened by the batch run's warnings, and the sweep
that ends publication at its maximum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models.contract_tier import TIER_NAMES
from service.core.cases import lists, records
from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import CaseSource
from service.core.cases.machine import Action
from service.core.cases.policy import CasePolicy
from service.core.cases.records import Actor, Conflict, Outcome, Subject
from service.core.cases.tables import Case, CaseFile, Measure
from service.core.db.audit import AuditRecord, audited
from service.core.db.tables import ContractCheck, RiskWarning, Score

T = TypeVar("T")
SYSTEM = Actor("system", None)
EVIDENCE_CONTRACTS = 20  # the subject's riskiest recent contracts attached to a warning case


def transact(sessions: sessionmaker[Session], work: Callable[[Session], T],
             audits: Callable[[T], Sequence[AuditRecord]]) -> T:
    """Run ``work`` and append its audit entries in one transaction. A concurrent update of
    the same case (its version moved) is a :class:`Conflict`."""
    try:
        return audited(sessions, work, audits)
    except StaleDataError:
        raise Conflict("concurrent_update", "another person changed the case at the same time: "
                       "reload it / 案件已被他人同时更新，请刷新") from None


def event_audit(outcome: Outcome, actor: Actor, source: str | None,
                extra: Mapping[str, object] | None = None) -> list[AuditRecord]:
    """One audit entry per event; ``extra`` adds to each (the console marks its own)."""
    case = outcome.case
    return [AuditRecord(actor=actor.user, role=actor.role, action=f"case.{e.action}",
                        outcome="ok", entity_kind=case.subject_kind, entity_id=case.subject_id,
                        source=source, detail={"case_id": case.id, "event_id": e.id,
                                               "from": e.from_state, "to": e.to_state,
                                               "version": case.version, **(extra or {})})
            for e in outcome.events]


def open_by_hand(sessions: sessionmaker[Session], subject: Subject, conduct: str | None,
                 reason: str, actor: Actor, now: datetime, source: str | None,
                 extra: Mapping[str, object] | None = None) -> Outcome:
    """A person's opening; an open case of the same subject and conduct takes the note in as
    evidence instead (``merged``)."""
    def work(session: Session) -> Outcome:
        return records.open_case(session, subject, conduct, CaseSource.manual, actor, now, reason,
                               [{"kind": "manual", "by": actor.user, "note": reason}])

    return transact(sessions, work, lambda o: event_audit(o, actor, source, extra))


def attach_file(sessions: sessionmaker[Session], case_id: int, name: str, media_type: str,
                content: bytes, actor: Actor, now: datetime,
                audits: Callable[[CaseFile], Sequence[AuditRecord]]) -> CaseFile:
    """Evidence kept with its SHA-256, its event and its audit entries in one commit."""
    def work(session: Session) -> CaseFile:
        return records.add_file(session, _case(session, case_id), name, media_type, content,
                              actor, now)

    return transact(sessions, work, audits)


def add_measure(sessions: sessionmaker[Session], case_id: int, measure: str, agency: str,
                starts: date, ends: date | None, actor: Actor, now: datetime,
                audits: Callable[[Measure], Sequence[AuditRecord]]) -> Measure:
    """A joint-punishment measure on a listed subject; :class:`Conflict` if it is not."""
    def work(session: Session) -> Measure:
        return records.add_measure(session, _case(session, case_id), measure, agency, starts,
                                 ends, actor, now)

    return transact(sessions, work, audits)


def _case(session: Session, case_id: int) -> Case:
    case = records.get(session, case_id)
    assert case is not None  # cases are never deleted
    return case


def act(sessions: sessionmaker[Session], case_id: int, action: Action, actor: Actor,
        today: date, now: datetime, given: records.ActionInput, policy: CasePolicy,
        calendar: WorkCalendar, expected_version: int | None, source: str | None) -> Outcome:
    def work(session: Session) -> Outcome:
        case = records.get(session, case_id)
        if case is None:
            raise LookupError(case_id)
        return records.act(session, case, action, actor, today, now, given, policy, calendar,
                         expected_version)

    return transact(sessions, work, lambda o: event_audit(o, actor, source))


@dataclass(frozen=True)
class Names:
    """Subject names and regions from the register, for cases opened without a person."""

    names: Mapping[tuple[str, str], str]
    regions: Mapping[tuple[str, str], str]


def _evidence(session: Session, w: RiskWarning) -> tuple[dict[str, object], float | None]:
    points = session.scalar(select(Score.points).where(
        Score.entity_kind == w.entity_kind, Score.entity_id == w.entity_id,
        Score.as_of == w.as_of, Score.model_version == w.model_version).limit(1))
    party = ContractCheck.institution_id if w.entity_kind == "institution" \
        else ContractCheck.broker_id
    contracts = list(session.scalars(
        select(ContractCheck.contract_id).where(party == w.entity_id,
                                                ContractCheck.tier.in_(("red", "orange")))
        .order_by(ContractCheck.probability.desc()).limit(EVIDENCE_CONTRACTS)))
    return {"kind": "warning", "warning_id": w.id, "tier": w.tier, "as_of": w.as_of.isoformat(),
            "points": points, "reason_codes": w.reason_codes, "reasons_zh": w.reasons_zh,
            "reasons_en": w.reasons_en, "model": f"{w.model_name} v{w.model_version}",
            "contracts": contracts}, points


def open_from_warnings(sessions: sessionmaker[Session], as_of: date, policy: CasePolicy,
                       names: Names, now: datetime) -> list[Outcome]:
    """Flag a case for each warning of ``as_of`` in the tiers that open cases; a subject
    already under an open case gets the warning merged in as new evidence. Idempotent."""
    def work(session: Session) -> list[Outcome]:
        warnings = session.scalars(select(RiskWarning).where(
            RiskWarning.as_of == as_of, RiskWarning.tier.in_(sorted(policy.open_tiers)))
            .order_by(RiskWarning.id)).all()
        out = []
        for w in warnings:
            key = (w.entity_kind, w.entity_id)
            evidence, points = _evidence(session, w)
            subject = Subject(w.entity_kind, w.entity_id, names.names.get(key),
                              w.region or names.regions.get(key))
            reason = (f"{as_of} {TIER_NAMES[w.tier]}预警：{'；'.join(w.reasons_zh)} / "
                      f"{w.tier} warning of {as_of}: {'; '.join(w.reasons_en)}")
            outcome = records.open_case(session, subject, None, CaseSource.warning, SYSTEM, now,
                                      reason, [evidence], w.id,
                                      (w.model_name, w.model_version), points)
            if outcome.events:
                out.append(outcome)
        return out

    def audits(outcomes: list[Outcome]) -> list[AuditRecord]:
        return [r for o in outcomes for r in event_audit(o, SYSTEM, "batch")]

    try:
        return transact(sessions, work, audits)
    except IntegrityError:  # a person opened the same case meanwhile: the retry merges
        return transact(sessions, work, audits)


def sweep(sessions: sessionmaker[Session], today: date, now: datetime, policy: CasePolicy,
          calendar: WorkCalendar) -> list[Outcome]:
    """End every publication that has reached its maximum (移出): the list already hides
    them; this records it, lifts their measures and closes the cases."""
    def work(session: Session) -> list[Outcome]:
        return [records.act(session, case, Action.expire, SYSTEM, today, now,
                          records.ActionInput(reason="publication period ended / 公示期届满"),
                          policy, calendar)
                for case in lists.due_to_expire(session, today)]

    return transact(sessions, work,
                    lambda outs: [r for o in outs for r in event_audit(o, SYSTEM, "sweep")])
