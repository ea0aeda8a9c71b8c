"""``/institutions/{id}/score``, ``/brokers/{id}/score``, ``/scores``, and overrides.

Scores are read from the batch runs' rows (``techcredit score --as-of``), never computed on
the request, so every answer names the model version and as-of date that produced it; one
entity's answer comes from the in-memory read model (:mod:`service.core.scores.read_model`). Each
read, refusal and override is in the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from service.core.context import ServiceContext
from service.core.db.tables import Override
from service.core.db.tokens import Principal
from service.core.inputs import ENTITY_ID
from service.core.permissions import entity_denial, region_filter
from service.core.scores import queries
from service.core.scores.overrides import find_entity, record_override
from service.core.scores.read_model import NotLoaded
from service.core.scores.schemas import (
    EntityScoreOut,
    Grade,
    Kind,
    OverrideIn,
    OverrideOut,
    ScorePage,
    ScoreRow,
)
from service.web.deps import (
    Ctx,
    Overrider,
    ScoreLister,
    ScoreReader,
    SessionDep,
    deny,
    journal,
    record,
    release,
)

router = APIRouter(tags=["scores 评分"])
EntityId = Annotated[str, Path(pattern=ENTITY_ID, description="institution or broker id")]


async def _visible(ctx: Ctx, request: Request, principal: Principal, action: str, kind: str,
                   entity_id: str, region: str | None) -> None:
    """Raise 404 for an unknown entity and 403 (audited) outside the principal's scope."""
    reason = entity_denial(principal, kind, entity_id, region)
    if reason is not None:
        raise await deny(ctx, request, principal, action, status.HTTP_403_FORBIDDEN, reason,
                         kind, entity_id)


async def _entity_score(ctx: ServiceContext, request: Request, principal: Principal,
                        kind: str, entity_id: str) -> Response:
    """The read model's answer, sent as the bytes it keeps (no per-request serialisation);
    the read is audited before it leaves."""
    try:
        entry = await ctx.scores.get((kind, entity_id))
    except NotLoaded as e:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{e} / 评分尚未加载",
                            headers={"Retry-After": "5"}) from None
    info = ctx.directory.get((kind, entity_id))
    if entry is None and info is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} {entity_id} / 无此主体")
    region = entry.region if entry is not None else info.region if info else None
    await _visible(ctx, request, principal, "read_score", kind, entity_id, region)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"{kind} {entity_id} has no score yet / 尚未评分")
    await journal(ctx, request, audits=[record(request, principal, "read_score", "ok", kind,
                                               entity_id, {"score_id": entry.score_id})])
    ctx.metrics.scores_served.labels(kind).inc()
    return Response(entry.body, media_type="application/json")


@router.get("/institutions/{entity_id}/score", response_model=EntityScoreOut)
async def institution_score(entity_id: EntityId, principal: ScoreReader, ctx: Ctx,
                            request: Request) -> Response:
    """An institution's latest score, grade, probability and reasons (zh/en), with history."""
    return await _entity_score(ctx, request, principal, "institution", entity_id)


@router.get("/brokers/{entity_id}/score", response_model=EntityScoreOut)
async def broker_score(entity_id: EntityId, principal: ScoreReader, ctx: Ctx,
                       request: Request) -> Response:
    """A broker's latest score, grade, probability and reasons (zh/en), with history."""
    return await _entity_score(ctx, request, principal, "broker", entity_id)


@router.get("/scores", response_model=ScorePage)
async def list_scores(
    principal: ScoreLister, ctx: Ctx, session: SessionDep, request: Request,
    kind: Kind | None = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    grade: Grade | None = None,
    tier: Annotated[str | None, Query(pattern="^(red|orange|yellow|blue)$")] = None,
    min_points: Annotated[float | None, Query(ge=0, le=2000)] = None,
    max_points: Annotated[float | None, Query(ge=0, le=2000)] = None,
    as_of: date | None = None,
    sort: queries.Sort = "-points",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ScorePage:
    """The latest score of each entity at a batch date (default: the latest), filtered,
    sorted and paged by keyset: pass ``next_cursor`` back as ``cursor``."""
    allowed_regions = region_filter(principal)
    regions = allowed_regions
    if region is not None:
        if allowed_regions is not None and region not in allowed_regions:
            raise await deny(ctx, request, principal, "list_scores", status.HTTP_403_FORBIDDEN,
                             f"region {region} is outside this token's regions / 超出授权地区")
        regions = (region,)
    f = queries.ScoreFilter(as_of, kind, regions, grade, tier, min_points, max_points)
    try:
        day, rows, following = queries.page(session, f, sort, min(limit, ctx.settings.api.page_max),
                                            cursor)
    except queries.BadCursor as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"field": "query.cursor", "rule": "cursor", "message": str(e)}]
                            ) from None
    await journal(ctx, request, audits=[record(request, principal, "list_scores", "ok", detail={
        "rows": len(rows), "query": str(request.url.query)[:500]})])
    return ScorePage(as_of=day, next_cursor=following, items=[
        ScoreRow(id=s.id, entity_kind=s.entity_kind, entity_id=s.entity_id, region=s.region,
                 as_of=s.as_of, points=s.points, grade=s.grade, probability=s.probability,
                 tier=t, model_version=s.model_version) for s, t in rows])


@router.post("/scores/{kind}/{entity_id}/override", response_model=OverrideOut,
             status_code=status.HTTP_201_CREATED)
async def set_override(kind: Kind, entity_id: EntityId, body: OverrideIn, principal: Overrider,
                       ctx: Ctx, session: SessionDep, request: Request) -> OverrideOut:
    """Set a grade for an entity with a recorded reason and expiry; the model score stays
    visible beside it."""
    found = find_entity(ctx, session, kind, entity_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} {entity_id} / 无此主体")
    await _visible(ctx, request, principal, "override", kind, entity_id, found.region)
    release(request)
    return _override_out(await record_override(
        ctx, principal, record(request, principal, "override", "ok", kind, entity_id), body,
        found.latest))


def _override_out(o: Override) -> OverrideOut:
    return OverrideOut(grade=o.grade, reason=o.reason, set_by=o.set_by, created_at=o.created_at,
                       expires_at=o.expires_at)
