"""Score queries: an entity's latest score and the paged list of the latest scores (one
entity's answer comes from :mod:`service.core.scores.read_model`).

The list is paged by keyset (:mod:`service.core.paging`): each sort order ends on the score's
id, so entities with equal points keep one place across pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.rules.tier import Tier
from service.core.db.tables import RiskWarning, Score
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

Sort = Literal["points", "-points", "entity_id"]
ORDERS: dict[Sort, Keyset] = {
    "points": Keyset("scores:points", (Key(Score.points, float), Key(Score.id, int))),
    "-points": Keyset("scores:-points", (Key(Score.points, float, descending=True),
                                         Key(Score.id, int, descending=True))),
    "entity_id": Keyset("scores:entity_id", (Key(Score.entity_id, str), Key(Score.id, int))),
}


def latest(session: Session, kind: str, entity_id: str) -> Score | None:
    return session.scalars(
        select(Score).where(Score.entity_kind == kind, Score.entity_id == entity_id)
        .order_by(Score.as_of.desc(), Score.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class ScoreFilter:
    as_of: date | None = None  # default: the latest batch date
    kind: str | None = None
    regions: tuple[str, ...] | None = None  # None: every region
    grade: str | None = None
    tier: Tier | None = None
    min_points: float | None = None
    max_points: float | None = None


def latest_as_of(session: Session) -> date | None:
    return session.scalar(select(func.max(Score.as_of)))


def page(session: Session, f: ScoreFilter, sort: Sort, ask: PageRequest
         ) -> tuple[date | None, Page[tuple[Score, str | None]]]:
    """One page of the latest score per entity at the as-of date (the date it read, and the
    rows), each with its warning tier of that date."""
    as_of = f.as_of or latest_as_of(session)
    if as_of is None:
        return None, Page([], None)
    newest = (select(func.max(Score.id)).where(Score.as_of == as_of)
              .group_by(Score.entity_kind, Score.entity_id))
    tier = (select(RiskWarning.tier).where(
        RiskWarning.entity_kind == Score.entity_kind, RiskWarning.entity_id == Score.entity_id,
        RiskWarning.as_of == Score.as_of).order_by(RiskWarning.id.desc()).limit(1)
            .correlate(Score).scalar_subquery())
    q: Select = select(Score, tier.label("tier")).where(Score.id.in_(newest))
    return as_of, fetch(session, _filtered(q, f, tier), ORDERS[sort], ask)


def _filtered(q: Select, f: ScoreFilter, tier: object) -> Select:
    if f.kind:
        q = q.where(Score.entity_kind == f.kind)
    if f.regions is not None:
        q = q.where(Score.region.in_(f.regions))
    if f.grade:
        q = q.where(Score.grade == f.grade)
    if f.tier:
        q = q.where(tier == f.tier)
    if f.min_points is not None:
        q = q.where(Score.points >= f.min_points)
    if f.max_points is not None:
        q = q.where(Score.points <= f.max_points)
    return q
