"""Overrides (人工调整): a person sets an entity's grade for a while, with a reason, beside the
model's score (which stays visible), for the API and the console alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.core.context import ServiceContext
from service.core.db.audit import AuditRecord
from service.core.db.tables import Override, Score
from service.core.db.tokens import Principal
from service.core.db.types import utcnow
from service.core.scores import queries
from service.core.scores.schemas import OverrideIn


@dataclass(frozen=True)
class Found:
    """An entity the register or the scores know: its latest score (if any) and its region,
    which decides a regional token's scope."""

    latest: Score | None
    region: str | None


def find_entity(ctx: ServiceContext, session: Session, kind: str, entity_id: str
                ) -> Found | None:
    """None: neither registered nor scored."""
    info = ctx.directory.get((kind, entity_id))
    latest = queries.latest(session, kind, entity_id)
    if info is None and latest is None:
        return None
    return Found(latest, latest.region if latest is not None else info.region if info else None)


async def record_override(ctx: ServiceContext, principal: Principal, stamp: AuditRecord,
                          body: OverrideIn, latest: Score | None,
                          detail: Mapping[str, Any] | None = None) -> Override:
    """Keep the override and its audit entry in one write (``stamp``: the caller's record,
    naming the entity; ``detail`` adds to it), then refresh the score answers so that its
    author reads it back at once."""
    assert stamp.entity_kind is not None and stamp.entity_id is not None
    now = utcnow()
    row = Override(entity_kind=stamp.entity_kind, entity_id=stamp.entity_id, grade=body.grade,
                   reason=body.reason, set_by=principal.user,
                   expires_at=now + timedelta(days=body.days), created_at=now)
    await ctx.journal.write([row], [replace(stamp, detail={
        **stamp.detail, "grade": body.grade, "reason": body.reason, "days": body.days,
        "model_grade": latest.grade if latest else None, **(detail or {})})])
    await ctx.scores.refresh()
    return row
