"""Views over many cases: the work queue with its deadlines, the dishonesty list shared with
other agencies, a subject's standing, and the sweep that ends publication at its maximum."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from features.standard.enums import CONDUCT_KIND
from service.core.cases.enums import ON_LIST, SEVERITY_LABELS, CaseState, Severity
from service.core.cases.tables import Case
from service.core.exports import csv_text

OPEN_STATES = (CaseState.flagged, CaseState.investigating, CaseState.determined,
               CaseState.notified, CaseState.objection, CaseState.upheld,
               CaseState.repair_requested)


@dataclass(frozen=True)
class QueueItem:
    case_id: int
    subject_kind: str
    subject_id: str
    subject_name: str | None
    state: str
    assignee: str | None
    pending_action: str | None  # a four-eyes step waiting for a second person
    due: date | None  # what the current state waits for, and until when
    due_kind: str | None  # objection_window | objection_answer | repair_answer
    overdue: bool  # an answer owed by us is late
    ready: bool  # the objection window has closed: listing may be proposed


def due_of(case: Case) -> tuple[date | None, str | None]:
    state = CaseState(case.state)
    if state == CaseState.notified:
        return case.objection_due, "objection_window"
    if state == CaseState.objection:
        return case.answer_due, "objection_answer"
    if state == CaseState.repair_requested:
        return case.repair_due, "repair_answer"
    return None, None


def queue_item(case: Case, today: date) -> QueueItem:
    due, kind = due_of(case)
    owed = kind in ("objection_answer", "repair_answer")
    return QueueItem(case.id, case.subject_kind, case.subject_id, case.subject_name, case.state,
                     case.assignee, case.pending_action, due, kind,
                     overdue=bool(owed and due and today > due),
                     ready=bool(kind == "objection_window" and due and today > due))


def queue(session: Session, today: date, regions: tuple[str, ...] | None = None,
          assignee: str | None = None, overdue_only: bool = False, limit: int = 500
          ) -> list[QueueItem]:
    """Open cases, the most urgent first: overdue answers, then by deadline, then by age."""
    q = select(Case).where(Case.state.in_([s.value for s in OPEN_STATES]))
    if regions is not None:
        q = q.where(Case.region.in_(regions))
    if assignee is not None:
        q = q.where(Case.assignee == assignee)
    items = [queue_item(c, today) for c in session.scalars(q.order_by(Case.id))]
    if overdue_only:
        items = [i for i in items if i.overdue]
    items.sort(key=lambda i: (not i.overdue, not i.ready, i.due or date.max, i.case_id))
    return items[:limit]


@dataclass(frozen=True)
class ListEntry:
    """One published entry of the dishonesty list, with the fields the national rules ask."""

    subject_name: str
    unified_code: str  # the register id, which plays the unified social credit code's role
    subject_kind: str
    conduct: str
    conduct_zh: str
    basis: str
    decision_number: str
    decision_date: date
    severity: str
    severity_zh: str
    published_from: date
    published_until: date
    status: str


def in_force(case: Case, today: date) -> bool:
    """On the list today: the listing ends by itself at the publication maximum, whether or
    not the sweep has recorded it yet."""
    return (CaseState(case.state) in ON_LIST and case.publication_ends is not None
            and today < case.publication_ends)


def on_list(case: Case, today: date) -> bool:
    """Published on the shared list today."""
    return in_force(case, today) and case.published


def dishonesty_list(session: Session, today: date) -> list[ListEntry]:
    rows = session.scalars(select(Case).where(Case.state.in_([s.value for s in ON_LIST]),
                                              Case.published.is_(True)).order_by(Case.id))
    out = []
    for c in rows:
        if not on_list(c, today):
            continue
        assert c.conduct and c.severity and c.decided_on and c.listed_on and c.publication_ends
        out.append(ListEntry(
            c.subject_name or c.subject_id, c.subject_id, c.subject_kind, c.conduct,
            CONDUCT_KIND.label(c.conduct, "zh"), c.basis or "", c.decision_number or "",
            c.decided_on, c.severity, SEVERITY_LABELS[Severity(c.severity)][0], c.listed_on,
            c.publication_ends, c.state))
    return out


def to_csv(entries: list[ListEntry]) -> str:
    """The list as the CSV other agencies open in a spreadsheet: names, bases and decision
    numbers come from users, so every cell is neutralised (:mod:`service.core.exports`)."""
    return csv_text([f.name for f in fields(ListEntry)],
                    (asdict(e).values() for e in entries))


def to_json(entries: list[ListEntry]) -> str:
    return json.dumps([asdict(e) for e in entries], ensure_ascii=False, default=str, indent=1)


@dataclass(frozen=True)
class Standing:
    """A subject's dishonesty standing, shown beside its score."""

    listed: bool  # on the list (a minor case may be listed without being published)
    published: bool
    case_id: int | None
    state: str | None
    severity: str | None
    publication_ends: date | None
    open_cases: int  # cases still being worked (not closed)


def standing(session: Session, kind: str, subject_id: str, today: date) -> Standing:
    cases = list(session.scalars(select(Case).where(
        Case.subject_kind == kind, Case.subject_id == subject_id,
        or_(Case.active_key.is_not(None), Case.state.in_([s.value for s in ON_LIST])))
        .order_by(Case.id.desc())))
    listed = [c for c in cases if in_force(c, today)]
    top = listed[0] if listed else None
    return Standing(top is not None, top is not None and top.published,
                    top.id if top else None, top.state if top else None,
                    top.severity if top else None, top.publication_ends if top else None,
                    len([c for c in cases if c.active_key is not None]))


def due_to_expire(session: Session, today: date) -> list[Case]:
    """Cases whose publication period has reached its maximum (the sweep moves them)."""
    return list(session.scalars(select(Case).where(
        Case.state.in_([s.value for s in ON_LIST]), Case.publication_ends <= today)
        .order_by(Case.id)))
