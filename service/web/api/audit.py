"""``GET /audit``: the audit log in chain order, keyset-paged by id; reading it is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from service.core.db.tables import AuditEntry
from service.core.inputs import FREE_TEXT
from service.web.deps import Auditor, Ctx, SessionDep, journal, record

router = APIRouter(tags=["audit 审计"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    entity_kind: str | None
    entity_id: str | None
    source: str | None
    outcome: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_after_id: int | None = Field(description="pass as `after_id` for the next page")


@router.get("/audit", response_model=AuditPage)
async def read_audit(
    principal: Auditor, ctx: Ctx, session: SessionDep, request: Request,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    actor: Annotated[str | None, Query(max_length=64, pattern=FREE_TEXT)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=FREE_TEXT)] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=FREE_TEXT)] = None,
    outcome: Annotated[str | None, Query(max_length=16, pattern=FREE_TEXT)] = None,
) -> AuditPage:
    """Entries after ``after_id`` with their hashes (so a client can re-check the chain),
    filtered by actor, action, entity or outcome."""
    q = select(AuditEntry).where(AuditEntry.id > after_id)
    for column, value in ((AuditEntry.actor, actor), (AuditEntry.action, action),
                          (AuditEntry.entity_id, entity_id), (AuditEntry.outcome, outcome)):
        if value is not None:
            q = q.where(column == value)
    rows = list(session.scalars(q.order_by(AuditEntry.id).limit(limit + 1)))
    following = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    await journal(ctx, request, audits=[record(request, principal, "read_audit", "ok", detail={
        "after_id": after_id, "rows": len(rows)})])
    return AuditPage(next_after_id=following,
                     items=[AuditOut.model_validate(e, from_attributes=True) for e in rows])
