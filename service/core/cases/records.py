"""Cases in the database: open (or merge), act, attach files and measures.

Functions take a session inside the caller's transaction and return the events they wrote, so
the caller commits the case, its events and the audit entries together (``service.core.cases.
service``). A transition updates the case where its version is still the one read (SQLAlchemy's
version counter): of two concurrent transitions one wins and the other gets
:class:`Conflict`, never a silent overwrite.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import CLOSED, ON_LIST, CaseSource, CaseState, Severity
from service.core.cases.machine import (
    TRANSITIONS,
    Action,
    Apply,
    CaseFacts,
    Party,
    Propose,
    Refusal,
    consequences,
    plan,
)
from service.core.cases.policy import CasePolicy
from service.core.cases.rescores import queue_related
from service.core.cases.tables import Case, CaseEvent, CaseFile, Measure

UNSPECIFIED = "unspecified"  # the conduct of a case opened by a warning, until determined


class Conflict(Exception):
    """A refused action (HTTP 409), naming the rule it broke."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class Missing(Exception):
    """Request fields an action needs (HTTP 422)."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


@dataclass(frozen=True)
class Actor:
    user: str
    role: str | None


@dataclass(frozen=True)
class Subject:
    kind: str
    id: str
    name: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class ActionInput:
    """What a person sends with an action; ``expected_version`` is the case's version as they
    read it, so a step taken on a page that someone else has since changed is refused."""

    reason: str | None = None
    conduct: str | None = None
    severity: Severity | None = None
    basis: str | None = None
    decision_number: str | None = None
    remediation: str | None = None
    commitment: bool | None = None
    file_ids: tuple[int, ...] = ()
    expected_version: int | None = None

    def given(self) -> set[str]:
        have = {k for k in ("reason", "conduct", "severity", "basis", "decision_number",
                            "remediation") if getattr(self, k)}
        if self.commitment:
            have.add("commitment")
        if self.file_ids:
            have.add("evidence_files")
        return have

    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in (("conduct", self.conduct), ("severity", self.severity),
                                  ("basis", self.basis),
                                  ("decision_number", self.decision_number)) if v is not None}


@dataclass(frozen=True)
class WarningLink:
    """What ties a case opened by a risk warning to it: the warning, and the model version
    (name, version) and points of the score that raised it."""

    warning_id: int
    model: tuple[str, str]
    points: float | None


@dataclass(frozen=True)
class Outcome:
    case: Case
    events: list[CaseEvent] = field(default_factory=list)
    proposed: bool = False  # a four-eyes step now waits for its second person
    merged: bool = False  # an opening merged into the subject's open case


def active_key(kind: str, subject_id: str, conduct: str | None) -> str:
    return f"{kind}:{subject_id}:{conduct or UNSPECIFIED}"


def facts(case: Case, subject_side: frozenset[str] = frozenset()) -> CaseFacts:
    return CaseFacts(CaseState(case.state), Severity(case.severity) if case.severity else None,
                     case.decided_on, case.objection_due, case.repair_from,
                     case.publication_ends, case.pending_action, case.pending_by, subject_side)


SUBJECT_ACTIONS = tuple(t.action.value for t in TRANSITIONS if t.party == Party.subject)


def subject_side(session: Session, case: Case) -> frozenset[str]:
    """Who has acted on the subject's side of ``case`` (objected, asked for repair), from its
    events: they decide no later step of it."""
    return frozenset(session.scalars(select(CaseEvent.actor).where(
        CaseEvent.case_id == case.id, CaseEvent.action.in_(SUBJECT_ACTIONS))))


def _event(case: Case, action: str, before: str | None, actor: Actor, now: datetime,
           reason: str | None, detail: dict[str, Any] | None = None,
           file_ids: tuple[int, ...] = ()) -> CaseEvent:
    return CaseEvent(case_id=case.id, action=action, from_state=before, to_state=case.state,
                     actor=actor.user, role=actor.role, at=now, reason=reason,
                     detail=detail or {}, file_ids=list(file_ids),
                     model_version=case.model_version)


def open_case(session: Session, subject: Subject, conduct: str | None, source: CaseSource,
              actor: Actor, now: datetime, reason: str | None,
              evidence: list[dict[str, Any]] | None = None,
              warning: WarningLink | None = None) -> Outcome:
    """A new flagged case, or the subject's open case for the same conduct with this
    evidence merged into it: the same conduct is never pursued twice."""
    key = active_key(subject.kind, subject.id, conduct)
    existing = session.scalar(select(Case).where(Case.active_key == key))
    evidence = evidence or []
    warning_id = warning.warning_id if warning else None
    if existing is not None:
        known = {e.get("warning_id") for e in existing.evidence if e.get("warning_id")}
        fresh = [e for e in evidence if not e.get("warning_id") or e["warning_id"] not in known]
        if not fresh and source == CaseSource.warning:  # the same warning again: nothing new
            return Outcome(existing, [], merged=True)
        existing.evidence = [*existing.evidence, *fresh]
        existing.updated_at = now
        session.flush()
        event = _event(existing, "merge", existing.state, actor, now, reason,
                       {"evidence_added": len(fresh), "warning_id": warning_id})
        session.add(event)
        session.flush()
        return Outcome(existing, [event], merged=True)
    case = Case(subject_kind=subject.kind, subject_id=subject.id, subject_name=subject.name,
                region=subject.region, conduct=conduct, state=CaseState.flagged.value,
                source=source.value, active_key=key, opened_by=actor.user, opened_at=now,
                updated_at=now, warning_id=warning_id, evidence=evidence,
                model_name=warning.model[0] if warning else None,
                model_version=warning.model[1] if warning else None,
                score_points=warning.points if warning else None,
                deadline_provisional=False, published=False)
    session.add(case)
    session.flush()
    event = _event(case, "open", None, actor, now, reason, {"source": source.value})
    session.add(event)
    session.flush()
    return Outcome(case, [event])


def get(session: Session, case_id: int) -> Case | None:
    return session.get(Case, case_id)


def act(session: Session, case: Case, action: Action, actor: Actor, today: date, now: datetime,
        given: ActionInput, policy: CasePolicy, calendar: WorkCalendar) -> Outcome:
    """Apply (or propose, for a four-eyes step) ``action`` to ``case``."""
    expected = given.expected_version
    if expected is not None and expected != case.version:
        raise Conflict("stale_version", f"the case is at version {case.version}, not "
                       f"{expected}: reload it / 案件已被他人更新，请刷新")
    decision = plan(facts(case, subject_side(session, case)), action, actor.user, today)
    if isinstance(decision, Refusal):
        raise Conflict(decision.rule, decision.message)
    t = decision.transition
    if isinstance(decision, Propose) or decision.proposed_by is None:
        missing = [r for r in t.requires if r not in given.given()]
        if missing:
            raise Missing(missing)
    _check_files(session, case, given.file_ids)
    before = case.state
    if isinstance(decision, Propose):
        case.pending_action, case.pending_by = action.value, actor.user
        case.pending_payload = given.payload()
        case.updated_at = now
        session.flush()
        event = _event(case, f"propose:{action.value}", before, actor, now, given.reason,
                       given.payload(), given.file_ids)
        session.add(event)
        session.flush()
        return Outcome(case, [event], proposed=True)
    assert isinstance(decision, Apply)
    # the second person approves what the first proposed, not something else
    payload = dict(case.pending_payload or {}) if decision.proposed_by else given.payload()
    if action == Action.determine:
        key = active_key(case.subject_kind, case.subject_id, payload["conduct"])
        other = session.scalar(select(Case.id).where(Case.active_key == key, Case.id != case.id))
        if other is not None:
            raise Conflict("duplicate_case", f"case {other} is already open for this subject "
                           "and conduct / 该主体同一失信行为已有在办案件")
        case.conduct = payload["conduct"]
        case.severity = Severity(payload["severity"]).value
        case.basis, case.decision_number = payload["basis"], payload["decision_number"]
        case.active_key = key
    if action == Action.investigate and case.assignee is None:
        case.assignee = actor.user  # who takes it up works it, until reassigned
    severity = Severity(case.severity) if case.severity else None
    changes = consequences(t, facts(case), severity, today, policy, calendar)
    for name in ("decided_on", "notice_on", "objection_due", "objection_on", "answer_due",
                 "listed_on", "repair_from", "publication_ends", "published", "repair_due"):
        value = getattr(changes, name)
        if value is not None:
            setattr(case, name, value)
    if changes.deadline_provisional:
        case.deadline_provisional = True
    case.state = t.target.value
    case.pending_action = case.pending_by = case.pending_payload = None
    case.updated_at = now
    if t.target in CLOSED:
        case.active_key, case.closed_at = None, now
    if changes.lift_measures:
        lift_measures(session, case, now, f"case {t.target.value}")
    if t.target == CaseState.listed:
        queue_related(session, case, today)
    session.flush()
    detail: dict[str, Any] = {**payload, "approved_proposal_of": decision.proposed_by}
    if given.remediation:
        detail.update(remediation=given.remediation, commitment=bool(given.commitment))
    if action == Action.notify:
        detail.update(notice(case, policy))
    event = _event(case, action.value, before, actor, now, given.reason, detail, given.file_ids)
    session.add(event)
    session.flush()
    return Outcome(case, [event])


def assign(session: Session, case_id: int, assignee: str, actor: Actor, now: datetime
           ) -> Outcome:
    case = session.get(Case, case_id)
    assert case is not None  # cases are never deleted
    before = case.assignee
    case.assignee, case.updated_at = assignee, now
    session.flush()
    event = _event(case, "assign", case.state, actor, now, None,
                   {"from": before, "to": assignee})
    session.add(event)
    session.flush()
    return Outcome(case, [event])


def notice(case: Case, policy: CasePolicy) -> dict[str, Any]:
    """What the subject is told before listing: reasons (the event's reason), basis, rights."""
    due = case.objection_due
    return {
        "basis": case.basis, "decision_number": case.decision_number,
        "rights_zh": f"当事人有权在 {due} 前（{policy.objection_workdays} 个工作日内）提出异议并"
                     "提交证据，认定机关应在规定期限内答复；列入名单后可依法申请信用修复。",
        "rights_en": f"The subject may object with evidence until {due} "
                     f"({policy.objection_workdays} working days); the objection is answered "
                     "within the set period; once listed, the subject may apply for credit "
                     "repair.",
    }


def _check_files(session: Session, case: Case, file_ids: tuple[int, ...]) -> None:
    if not file_ids:
        return
    found = set(session.scalars(select(CaseFile.id).where(CaseFile.case_id == case.id,
                                                           CaseFile.id.in_(file_ids))))
    unknown = sorted(set(file_ids) - found)
    if unknown:
        raise Missing([f"evidence_files: no file {i} on case {case.id}" for i in unknown])


def add_file(session: Session, case: Case, name: str, media_type: str, content: bytes,
             actor: Actor, now: datetime) -> CaseFile:
    row = CaseFile(case_id=case.id, name=name, media_type=media_type, size=len(content),
                   sha256=hashlib.sha256(content).hexdigest(), content=content,
                   uploaded_by=actor.user, uploaded_at=now)
    session.add(row)
    session.flush()
    session.add(_event(case, "attach_file", case.state, actor, now, None,
                       {"file_id": row.id, "name": name, "sha256": row.sha256},
                       (row.id,)))
    return row


def add_measure(session: Session, case: Case, measure: str, agency: str, starts: date,
                ends: date | None, actor: Actor, now: datetime) -> Measure:
    if not punishable(case):
        raise Conflict("not_listed", "joint punishment applies only to a listed subject / "
                       "仅对列入失信名单的主体实施联合惩戒")
    if ends is not None and ends < starts:
        raise Missing(["ends: before starts"])
    row = Measure(case_id=case.id, measure=measure, agency=agency, starts=starts, ends=ends,
                  added_by=actor.user, added_at=now)
    session.add(row)
    session.flush()
    session.add(_event(case, "add_measure", case.state, actor, now, None,
                       {"measure_id": row.id, "measure": measure, "agency": agency,
                        "starts": starts.isoformat(), "ends": ends and ends.isoformat()}))
    return row


def punishable(case: Case) -> bool:
    """Joint punishment applies only while the subject is on the list."""
    return CaseState(case.state) in ON_LIST


def lift_measures(session: Session, case: Case, now: datetime, reason: str) -> int:
    rows = session.scalars(select(Measure).where(Measure.case_id == case.id,
                                                 Measure.lifted_at.is_(None))).all()
    for row in rows:
        row.lifted_at, row.lifted_reason = now, reason
    return len(rows)


def measures(session: Session, case_id: int) -> list[Measure]:
    return list(session.scalars(select(Measure).where(Measure.case_id == case_id)
                                .order_by(Measure.id)))


def events(session: Session, case_id: int) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)))


def files(session: Session, case_id: int) -> list[CaseFile]:
    return list(session.scalars(select(CaseFile).where(CaseFile.case_id == case_id)
                                .order_by(CaseFile.id)))


def case_file(session: Session, case_id: int, file_id: int) -> CaseFile | None:
    """One file of one case (None: no such file on it)."""
    return session.scalar(select(CaseFile).where(CaseFile.case_id == case_id,
                                                 CaseFile.id == file_id))
