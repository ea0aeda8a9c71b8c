"""``GET /warnings``: the batch runs' warnings, newest first, filtered and keyset-paged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from service.core.db.tables import RiskWarning
from service.core.permissions import region_filter
from service.web.deps import Ctx, SessionDep, WarningReader, deny, journal, record

router = APIRouter(tags=["warnings 预警"])
TierName = Literal["red", "orange", "yellow", "blue"]


class WarningOut(BaseModel):
    id: int
    entity_kind: str
    entity_id: str
    region: str | None
    tier: str
    reason_codes: list[str]
    reasons_zh: list[str]
    reasons_en: list[str]
    as_of: date
    model_name: str
    model_version: str
    state: str


class WarningPage(BaseModel):
    items: list[WarningOut]
    next_cursor: int | None = Field(description="pass as `before_id` for the next page")


@router.get("/warnings", response_model=WarningPage)
async def list_warnings(
    principal: WarningReader, ctx: Ctx, session: SessionDep, request: Request,
    tier: TierName | None = None,
    kind: Literal["institution", "broker"] | None = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    state: Literal["open", "closed"] | None = "open",
    as_of: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> WarningPage:
    """Warnings by tier (红/橙/黄/蓝), kind, region, state and date; a regulator limited to
    regions sees only theirs."""
    regions = region_filter(principal)
    if region is not None:
        if regions is not None and region not in regions:
            raise await deny(ctx, request, principal, "read_warnings", status.HTTP_403_FORBIDDEN,
                             f"region {region} is outside this token's regions / 超出授权地区")
        regions = (region,)
    q = select(RiskWarning)
    for column, value in ((RiskWarning.tier, tier), (RiskWarning.entity_kind, kind),
                          (RiskWarning.state, state), (RiskWarning.as_of, as_of)):
        if value is not None:
            q = q.where(column == value)
    if regions is not None:
        q = q.where(RiskWarning.region.in_(regions))
    if before_id is not None:
        q = q.where(RiskWarning.id < before_id)
    if limit > ctx.settings.api.page_max:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "field": "query.limit", "rule": "less_than_equal",
            "message": f"at most {ctx.settings.api.page_max} rows per page"}])
    rows = list(session.scalars(q.order_by(RiskWarning.id.desc()).limit(limit + 1)))
    following = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    await journal(ctx, request, audits=[record(request, principal, "read_warnings", "ok",
                                           detail={"rows": len(rows)})])
    return WarningPage(next_cursor=following, items=[WarningOut.model_validate(
        w, from_attributes=True) for w in rows])
