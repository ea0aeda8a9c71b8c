"""Two more sources of the score answer (see :mod:`service.core.scores.read_model`): an entity's
dishonesty-list standing, from the cases, and an institution's status of record from the
annual assessment. A case step or a published assessment changes what a score reader sees
within a poll, or at once when this service made the change (it refreshes before answering).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from service.core.assessments.tables import InstitutionStatusRecord
from service.core.cases.enums import ON_LIST
from service.core.cases.tables import Case, CaseEvent
from service.core.scores.sources import SOURCES, Key, Source


@dataclass(frozen=True)
class ListingPoint:
    """A case that puts the entity on the dishonesty list until ``publication_ends``."""

    case_id: int
    state: str
    conduct: str | None
    severity: str | None
    published: bool
    listed_on: date | None
    publication_ends: date


@dataclass(frozen=True)
class StatusPoint:
    status: str  # active | warned | exited
    year: int
    since: datetime
    basis: str


def _case_marker(conn: Connection) -> Hashable:
    return conn.execute(select(func.max(CaseEvent.id))).scalar()  # every step writes one


def load_listings(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
                  ) -> dict[Key, Any]:
    """Every listed entity's listings, newest first; entities no longer listed: None."""
    rows = conn.execute(select(
        Case.subject_kind, Case.subject_id, Case.id, Case.state, Case.conduct, Case.severity,
        Case.published, Case.listed_on, Case.publication_ends)
        .where(Case.state.in_([s.value for s in ON_LIST]), Case.publication_ends.is_not(None))
        .order_by(Case.id.desc()))
    found: dict[Key, list[ListingPoint]] = {}
    for kind, subject_id, *rest in rows:
        found.setdefault((kind, subject_id), []).append(ListingPoint(*rest))
    out: dict[Key, Any] = dict.fromkeys(current)
    out.update((k, tuple(v)) for k, v in found.items())
    return out


def _status_marker(conn: Connection) -> Hashable:
    return conn.execute(select(func.max(InstitutionStatusRecord.id))).scalar()


def load_statuses(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
                  ) -> dict[Key, Any]:
    """Each institution's latest decision on its latest assessment year."""
    rows = conn.execute(select(
        InstitutionStatusRecord.institution_id, InstitutionStatusRecord.status,
        InstitutionStatusRecord.year, InstitutionStatusRecord.since,
        InstitutionStatusRecord.basis).order_by(InstitutionStatusRecord.year,
                                                InstitutionStatusRecord.id))
    out: dict[Key, Any] = {}
    for institution_id, *rest in rows:
        out[("institution", institution_id)] = StatusPoint(*rest)
    return out


ALL_SOURCES: tuple[Source, ...] = (
    *SOURCES,
    Source("listings", _case_marker, load_listings),
    Source("status", _status_marker, load_statuses),
)
