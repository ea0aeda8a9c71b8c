"""The batch runs' risk warnings as a list: newest first, filtered, paged by keyset; and the
counts by region and tier that the console shows beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.core.db.tables import RiskWarning
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

NEWEST_FIRST = Keyset("warnings", (Key(RiskWarning.id, int, descending=True),))


@dataclass(frozen=True)
class WarningFilter:
    tier: str | None = None
    kind: str | None = None
    regions: tuple[str, ...] | None = None  # None: every region
    state: str | None = None  # None: open and closed
    as_of: date | None = None  # None: every batch date


def latest_as_of(session: Session) -> date | None:
    return session.scalar(select(func.max(RiskWarning.as_of)))


def _filtered(f: WarningFilter) -> Select[tuple[RiskWarning]]:
    q = select(RiskWarning)
    for column, value in ((RiskWarning.tier, f.tier), (RiskWarning.entity_kind, f.kind),
                          (RiskWarning.state, f.state), (RiskWarning.as_of, f.as_of)):
        if value is not None:
            q = q.where(column == value)
    if f.regions is not None:
        q = q.where(RiskWarning.region.in_(f.regions))
    return q


def page(session: Session, f: WarningFilter, ask: PageRequest, counted: bool = False
         ) -> Page[RiskWarning]:
    """Warnings under ``f``, newest first. ``counted``: with the total, for a list bounded to
    one batch date (the console's); the whole history is not counted on every page."""
    return fetch(session, _filtered(f), NEWEST_FIRST, ask, counted=counted)


def by_region(session: Session, f: WarningFilter) -> dict[str | None, dict[str, int]]:
    """How many warnings under ``f`` each region has, per tier."""
    q = _filtered(f).with_only_columns(RiskWarning.region, RiskWarning.tier, func.count()
                                       ).group_by(RiskWarning.region, RiskWarning.tier)
    out: dict[str | None, dict[str, int]] = {}
    for region, tier, n in session.execute(q):
        out.setdefault(region, {})[tier] = n
    return out
