"""``GET /warnings``: the batch runs' warnings, newest first, filtered and paged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel

from models.rules.tier import Tier
from service.core.paging import PageOut
from service.core.permissions import region_filter
from service.core.scores import warnings
from service.web.deps import Ctx, SessionDep, WarningReader, deny, journal, record
from service.web.paging import Paged

router = APIRouter(tags=["warnings 预警"])
# the tier's values as a literal, so a wrong one stays the 422 `literal_error` clients know
TierName = Literal[tuple(t.value for t in Tier)]  # type: ignore[valid-type]


class WarningOut(BaseModel):
    id: int
    entity_kind: str
    entity_id: str
    region: str | None
    tier: Tier
    reason_codes: list[str]
    reasons_zh: list[str]
    reasons_en: list[str]
    as_of: date
    model_name: str
    model_version: str
    state: str


@router.get("/warnings", response_model=PageOut[WarningOut])
async def list_warnings(
    principal: WarningReader, ctx: Ctx, session: SessionDep, request: Request, paged: Paged,
    tier: TierName | None = None,
    kind: Literal["institution", "broker"] | None = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    state: Literal["open", "closed"] | None = "open",
    as_of: date | None = None,
) -> PageOut[WarningOut]:
    """Warnings by tier (红/橙/黄/蓝), kind, region, state and date; a regulator limited to
    regions sees only theirs."""
    regions = region_filter(principal)
    if region is not None:
        if regions is not None and region not in regions:
            raise await deny(ctx, request, principal, "read_warnings", status.HTTP_403_FORBIDDEN,
                             f"region {region} is outside this token's regions / 超出授权地区")
        regions = (region,)
    found = warnings.page(session, warnings.WarningFilter(tier, kind, regions, state, as_of),
                          paged)
    await journal(ctx, request, audits=[record(request, principal, "read_warnings", "ok",
                                               detail={"rows": len(found.items)})])
    return PageOut[WarningOut].of(
        found, lambda w: WarningOut.model_validate(w, from_attributes=True))
