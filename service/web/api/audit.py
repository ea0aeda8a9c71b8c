"""``GET /audit``: the audit log in chain order, a page at a time; reading it is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from service.core.db.audit import AuditFilter, entries
from service.core.inputs import FREE_TEXT
from service.core.paging import PageOut
from service.web.deps import Auditor, Ctx, SessionDep, journal, record
from service.web.paging import Paged

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


@router.get("/audit", response_model=PageOut[AuditOut])
async def read_audit(
    principal: Auditor, ctx: Ctx, session: SessionDep, request: Request, paged: Paged,
    actor: Annotated[str | None, Query(max_length=64, pattern=FREE_TEXT)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=FREE_TEXT)] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=FREE_TEXT)] = None,
    outcome: Annotated[str | None, Query(max_length=16, pattern=FREE_TEXT)] = None,
) -> PageOut[AuditOut]:
    """Entries in chain order with their hashes (so a client can re-check the chain page by
    page), filtered by actor, action, entity or outcome."""
    found = entries(session, AuditFilter(actor, action, entity_id, outcome), paged)
    await journal(ctx, request, audits=[record(request, principal, "read_audit", "ok", detail={
        "rows": len(found.items), "query": str(request.url.query)[:500]})])
    return PageOut[AuditOut].of(found, lambda e: AuditOut.model_validate(e, from_attributes=True))
