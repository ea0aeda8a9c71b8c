"""The tables an entity's score answer is made of, each as a :class:`Source` of the read model
(:mod:`service.core.scores.read_model`): a cheap change marker and a loader of what changed.

- ``scores``: append-only (a re-score is a new row), so ``max(id)`` marks a change; the
  entities with newer rows get their newest :data:`HISTORY_LIMIT` scores reloaded.
- ``warnings``: the latest warning per as-of date (by id); ``max(id)`` marks a new one.
- ``overrides``: few rows, and revoking one is an update, so the marker also counts the
  revoked ones and a change reloads every override still in force.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from service.core.db.tables import Override, RiskWarning, Score
from service.core.db.types import utcnow

Key = tuple[str, str]  # (entity kind, entity id)
HISTORY_LIMIT = 36  # scores per entity in an answer, newest first
BULK = 500  # more changed entities than this: reload the table instead of the entities
# the loader of a source: (connection, marker of the last load or None for a first load,
# the source's current values) -> the new value of every entity that changed (None: removed)
Loader = Callable[[Connection, Hashable | None, Mapping[Key, Any]], dict[Key, Any]]


@dataclass(frozen=True)
class Source:
    """One table the entity answer reads: ``marker`` must be cheap (it runs every poll) and
    change whenever ``load`` would return something new."""

    name: str
    marker: Callable[[Connection], Hashable]
    load: Loader


@dataclass(frozen=True)
class ScorePoint:
    id: int
    as_of: date
    region: str | None
    feature_as_of: date
    points: float
    grade: str
    probability: float
    reasons_zh: list[str]
    reasons_en: list[str]
    model_name: str
    model_version: str
    alias: str | None
    reason_detail: list[dict[str, Any]] | None = None  # reasons as data (older scores: None)
    repair: dict[str, Any] | None = None  # credit repair guidance (older scores: None)


@dataclass(frozen=True)
class WarningPoint:
    id: int
    tier: str
    reasons_zh: list[str]
    reasons_en: list[str]
    as_of: date


@dataclass(frozen=True)
class OverridePoint:
    id: int
    grade: str
    reason: str
    set_by: str
    created_at: datetime
    expires_at: datetime


def _max_id(column: Any) -> Callable[[Connection], Hashable]:
    def marker(conn: Connection) -> Hashable:
        return conn.execute(select(func.max(column))).scalar()

    return marker


# --- scores ----------------------------------------------------------------------------------

_SCORE_COLUMNS = (Score.entity_kind, Score.entity_id, Score.id, Score.as_of, Score.region,
                  Score.feature_as_of, Score.points, Score.grade, Score.probability,
                  Score.reasons_zh, Score.reasons_en, Score.model_name, Score.model_version,
                  Score.alias, Score.reason_detail, Score.repair)


def load_scores(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
                ) -> dict[Key, Any]:
    """Each changed entity's newest scores, newest first (as-of, then id)."""
    query = select(*_SCORE_COLUMNS).order_by(Score.entity_kind, Score.entity_id,
                                             Score.as_of.desc(), Score.id.desc())
    if since is None:
        return _histories(conn.execute(query))
    changed = {(k, i) for k, i in conn.execute(
        select(Score.entity_kind, Score.entity_id).where(Score.id > since).distinct())}
    if len(changed) > BULK:
        return _histories(conn.execute(query))
    out: dict[Key, Any] = {}
    ids = sorted({i for _, i in changed})
    for start in range(0, len(ids), BULK):
        rows = conn.execute(query.where(Score.entity_id.in_(ids[start:start + BULK])))
        out.update((k, v) for k, v in _histories(rows).items() if k in changed)
    return out


def _histories(rows: Iterable[Any]) -> dict[Key, Any]:
    out: dict[Key, list[ScorePoint]] = {}
    for kind, entity_id, *rest in rows:
        past = out.setdefault((kind, entity_id), [])
        if len(past) < HISTORY_LIMIT:
            past.append(ScorePoint(*rest))
    return {k: tuple(v) for k, v in out.items()}


# --- warnings --------------------------------------------------------------------------------

def load_warnings(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
                  ) -> dict[Key, Any]:
    """Per changed entity: its latest warning (highest id) of each as-of date."""
    query = select(RiskWarning.entity_kind, RiskWarning.entity_id, RiskWarning.id,
                   RiskWarning.tier, RiskWarning.reasons_zh, RiskWarning.reasons_en,
                   RiskWarning.as_of).order_by(RiskWarning.id)
    if since is not None:
        query = query.where(RiskWarning.id > since)
    out: dict[Key, dict[date, WarningPoint]] = {}
    for kind, entity_id, *rest in conn.execute(query):
        key = (kind, entity_id)
        if key not in out:
            out[key] = dict(current.get(key) or {})
        point = WarningPoint(*rest)
        out[key][point.as_of] = point  # ascending ids: the last one of a date wins
    return dict(out)


# --- overrides -------------------------------------------------------------------------------

def override_marker(conn: Connection) -> Hashable:
    return tuple(conn.execute(select(func.max(Override.id), func.count(Override.revoked_at)))
                 .one())


def load_overrides(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
                   ) -> dict[Key, Any]:
    """Every entity's overrides in force, newest first; entities that lost theirs: None."""
    rows = conn.execute(
        select(Override.entity_kind, Override.entity_id, Override.id, Override.grade,
               Override.reason, Override.set_by, Override.created_at, Override.expires_at)
        .where(Override.revoked_at.is_(None), Override.expires_at > utcnow())
        .order_by(Override.id.desc()))
    found: dict[Key, list[OverridePoint]] = {}
    for kind, entity_id, *rest in rows:
        found.setdefault((kind, entity_id), []).append(OverridePoint(*rest))
    out: dict[Key, Any] = dict.fromkeys(current)
    out.update((k, tuple(v)) for k, v in found.items())
    return out


SOURCES: tuple[Source, ...] = (
    Source("scores", _max_id(Score.id), load_scores),
    Source("warnings", _max_id(RiskWarning.id), load_warnings),
    Source("overrides", override_marker, load_overrides),
)
