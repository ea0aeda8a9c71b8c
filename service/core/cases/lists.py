"""Views over many cases: the case list, the work queue with its deadlines, the dishonesty list
shared with other agencies, a subject's standing, and the sweep that ends publication at its
maximum.

The lists are paged by keyset (:mod:`service.core.paging`). The queue's urgency is computed in
SQL from the same rules as :func:`queue_item`, so its order holds across pages.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from features.standard.enums import CONDUCT_KIND
from service.core.cases.enums import ON_LIST, SEVERITY_LABELS, CaseState, Severity
from service.core.cases.tables import Case
from service.core.exports import csv_text
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

OPEN_STATES = (CaseState.flagged, CaseState.investigating, CaseState.determined,
               CaseState.notified, CaseState.objection, CaseState.upheld,
               CaseState.repair_requested)
OWED = (CaseState.objection, CaseState.repair_requested)  # states in which we owe an answer
NEWEST_FIRST = Keyset("cases", (Key(Case.id, int, descending=True),))
LIST_ORDER = Keyset("dishonesty-list", (Key(Case.id, int),))


@dataclass(frozen=True)
class CaseFilter:
    state: str | None = None
    subject_kind: str | None = None
    subject_id: str | None = None
    regions: tuple[str, ...] | None = None  # a regulator's provinces; None: every region
    own_institution: str | None = None  # an institution sees only its own cases


def cases(session: Session, f: CaseFilter, ask: PageRequest) -> Page[Case]:
    """Cases under ``f``, newest first, counted (cases are people's work: never many)."""
    q = select(Case)
    for column, value in ((Case.state, f.state), (Case.subject_kind, f.subject_kind),
                          (Case.subject_id, f.subject_id)):
        if value is not None:
            q = q.where(column == value)
    if f.own_institution is not None:
        q = q.where(Case.subject_kind == "institution", Case.subject_id == f.own_institution)
    if f.regions is not None:
        q = q.where(Case.region.in_(f.regions))
    return fetch(session, q, NEWEST_FIRST, ask, counted=True)


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


@dataclass(frozen=True)
class Urgency:
    """:func:`queue_item`'s ``due``, ``overdue`` and ``ready`` as SQL, for one day."""

    due: ColumnElement[Any]
    overdue: ColumnElement[int]  # 1 or 0, never NULL, so it sorts and compares
    ready: ColumnElement[int]

    @classmethod
    def on(cls, today: date) -> Urgency:
        due = case((Case.state == CaseState.notified.value, Case.objection_due),
                   (Case.state == CaseState.objection.value, Case.answer_due),
                   (Case.state == CaseState.repair_requested.value, Case.repair_due),
                   else_=None)
        return cls(due, case((and_(Case.state.in_([s.value for s in OWED]), due < today), 1),
                             else_=0),
                   case((and_(Case.state == CaseState.notified.value,
                              Case.objection_due < today), 1), else_=0))

    def keyset(self) -> Keyset:
        """Overdue answers first, then cases ready for listing, then by deadline (none
        last), then by age."""
        return Keyset("cases:queue", (Key(self.overdue, int, descending=True),
                                      Key(self.ready, int, descending=True),
                                      Key(func.coalesce(self.due, date.max), date),
                                      Key(Case.id, int)))


@dataclass(frozen=True)
class QueueFilter:
    regions: tuple[str, ...] | None = None  # None: every region
    assignee: str | None = None
    overdue_only: bool = False


IS_OPEN = Case.state.in_([s.value for s in OPEN_STATES])


def queue(session: Session, today: date, f: QueueFilter, ask: PageRequest
          ) -> Page[QueueItem]:
    """Open cases under ``f``, the most urgent first, counted."""
    urgency = Urgency.on(today)
    q = select(Case).where(IS_OPEN)
    if f.regions is not None:
        q = q.where(Case.region.in_(f.regions))
    if f.assignee is not None:
        q = q.where(Case.assignee == f.assignee)
    if f.overdue_only:
        q = q.where(urgency.overdue == 1)
    return fetch(session, q, urgency.keyset(), ask, counted=True).map(
        lambda c: queue_item(c, today))


@dataclass(frozen=True)
class QueueCounts:
    open: int
    overdue: int


def queue_counts(session: Session, today: date, regions: tuple[str, ...] | None = None,
                 institution: str | None = None) -> QueueCounts:
    """How many cases are open, and how many of them owe a late answer, within ``regions``
    (None: all) or of one ``institution``."""
    overdue = Urgency.on(today).overdue
    q = select(func.count(), func.coalesce(func.sum(overdue), 0)).select_from(Case).where(IS_OPEN)
    if regions is not None:
        q = q.where(Case.region.in_(regions))
    if institution is not None:
        q = q.where(Case.subject_kind == "institution", Case.subject_id == institution)
    n, late = session.execute(q).one()
    return QueueCounts(n, late)


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


def _listed(today: date) -> Select[tuple[Case]]:
    """The cases published on the shared list today: published and :func:`in_force`, as
    SQL."""
    return select(Case).where(Case.state.in_([s.value for s in ON_LIST]),
                              Case.published.is_(True), Case.publication_ends > today)


def _entry(c: Case) -> ListEntry:
    assert c.conduct and c.severity and c.decided_on and c.listed_on and c.publication_ends
    return ListEntry(
        c.subject_name or c.subject_id, c.subject_id, c.subject_kind, c.conduct,
        CONDUCT_KIND.label(c.conduct, "zh"), c.basis or "", c.decision_number or "",
        c.decided_on, c.severity, SEVERITY_LABELS[Severity(c.severity)][0], c.listed_on,
        c.publication_ends, c.state)


def dishonesty_list(session: Session, today: date) -> list[ListEntry]:
    """The whole published list, for an export."""
    return [_entry(c) for c in session.scalars(_listed(today).order_by(Case.id))]


def dishonesty_page(session: Session, today: date, ask: PageRequest) -> Page[ListEntry]:
    """The published list a page at a time, in listing-case order, counted."""
    return fetch(session, _listed(today), LIST_ORDER, ask, counted=True).map(_entry)


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
