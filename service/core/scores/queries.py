"""Score queries: an entity's latest score and the keyset-paginated list (one entity's
answer comes from :mod:`service.core.scores.read_model`).

A list is paged by keyset — the last row's (sort value, id) — not by offset, so rows inserted
while a client pages (a new batch run) never shift a page or repeat a row.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from models.rules.tier import Tier
from service.core.db.tables import RiskWarning, Score

Sort = Literal["points", "-points", "entity_id"]


class BadCursor(ValueError):
    pass


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


def encode_cursor(value: float | str, row_id: int) -> str:
    raw = json.dumps([value, row_id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[float | str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
    except (ValueError, TypeError):
        raise BadCursor("cursor is not one this service issued") from None
    numeric = sort != "entity_id"
    if not isinstance(row_id, int) or (numeric and not isinstance(value, int | float)) or (
            not numeric and (not isinstance(value, str) or "\x00" in value)):
        raise BadCursor("cursor does not match the sort order")
    return value, row_id


def page(session: Session, f: ScoreFilter, sort: Sort, limit: int, cursor: str | None
         ) -> tuple[date | None, list[tuple[Score, str | None]], str | None]:
    """One page of the latest score per entity at the as-of date, with its warning tier."""
    as_of = f.as_of or latest_as_of(session)
    if as_of is None:
        return None, [], None
    newest = (select(func.max(Score.id)).where(Score.as_of == as_of)
              .group_by(Score.entity_kind, Score.entity_id))
    tier = (select(RiskWarning.tier).where(
        RiskWarning.entity_kind == Score.entity_kind, RiskWarning.entity_id == Score.entity_id,
        RiskWarning.as_of == Score.as_of).order_by(RiskWarning.id.desc()).limit(1)
            .correlate(Score).scalar_subquery())
    q: Select = select(Score, tier.label("tier")).where(Score.id.in_(newest))
    q = _filtered(q, f, tier)
    column = {"points": Score.points, "-points": Score.points, "entity_id": Score.entity_id}[sort]
    descending = sort == "-points"
    if cursor is not None:
        value, row_id = decode_cursor(cursor, sort)
        after = (or_(column < value, and_(column == value, Score.id < row_id)) if descending
                 else or_(column > value, and_(column == value, Score.id > row_id)))
        q = q.where(after)
    order = (column.desc(), Score.id.desc()) if descending else (column.asc(), Score.id.asc())
    rows = [(r[0], r[1]) for r in session.execute(q.order_by(*order).limit(limit + 1))]
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        following = encode_cursor(last.entity_id if sort == "entity_id" else last.points, last.id)
    return as_of, rows, following


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
