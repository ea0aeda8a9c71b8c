"""``/healthz`` (the process answers), ``/readyz`` (it can serve: database reachable, models
loaded, contract ledger built, score answers loaded; and whether the model registry can be
reached), ``/metrics`` (for a token granted ``read_metrics``: the counts tell who is served,
how often and which models, which is not for anyone who can reach the port)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from service.core.context import STATE_NOT_BUILT
from service.web.deps import Ctx, MetricsReader, journal, record

router = APIRouter(tags=["health 运行状态"])


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    database: str
    models: str  # the versions served, or why none
    registry: str  # "reachable" or why the last good models are being served
    registry_checked_at: datetime | None
    state: str  # the real-time contract ledger
    state_built_at: datetime | None  # rebuilt when the curated store or the rules change
    state_source: str | None  # loaded from the store version's snapshot, advanced, or rebuilt
    scores: str  # the score answers' read model: loaded (how many entities) or loading
    starting: bool  # a part is still on its first load; False and not ready: waiting won't do


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready}})
async def readyz(ctx: Ctx, request: Request, response: Response) -> Ready:
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as e:  # any failure means not ready; say which
        database = f"unreachable: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    loaded = ctx.holder.current
    models = ("; ".join(r.label() for r in (loaded.anomaly_ref, loaded.credit_ref) if r)
              if loaded else (ctx.holder.problem or "not loaded"))
    registry = ctx.holder.problem if loaded and ctx.holder.problem else "reachable"
    state = (("ok" if ctx.state_stale is None else f"ok, but {ctx.state_stale}")
             if ctx.checker is not None else (ctx.state_problem or "not built"))
    read_model = ctx.scores  # a lookup before its first load waits, then 503
    scored = read_model.loaded.is_set()
    scores = f"loaded ({len(read_model.entries)} entities)" if scored else "loading"
    ready = database == "ok" and loaded is not None and ctx.checker is not None and scored
    starting = ctx.holder.checked_at is None or ctx.state_problem == STATE_NOT_BUILT \
        or not scored
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Ready(ready=ready, database=database, models=models, registry=registry,
                 registry_checked_at=ctx.holder.checked_at, state=state,
                 state_built_at=ctx.state_built_at, state_source=ctx.state_source,
                 scores=scores,
                 starting=starting)


@router.get("/metrics", response_class=Response)
async def metrics(principal: MetricsReader, ctx: Ctx, request: Request) -> Response:
    await journal(ctx, request, audits=[record(request, principal, "read_metrics", "ok")])
    return Response(ctx.metrics.render(), media_type="text/plain; version=0.0.4")
