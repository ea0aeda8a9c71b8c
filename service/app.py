"""The FastAPI application: ``create_app`` wires settings, database, models and routers.

Start-up never blocks on the slow parts: the database schema is checked at once (an
unmigrated database refuses to start, in one line), then the champion models load and the
real-time registry state is built in worker threads while ``/healthz`` already answers and
``/readyz`` says what is still missing. The champion alias is polled; a moved alias is loaded
in the background and swapped in whole (:mod:`service.runtime.models_holder`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from features.point_in_time.history import prepare
from features.settings import Settings
from models.contract_tier import TierBands
from models.rules.store import active_rules
from service import errors
from service.assessments.router import router as assessments_router
from service.audit.router import router as audit_router
from service.cases.router import router as cases_router
from service.console.app import mount_console
from service.console.market import market_overview
from service.context import ServiceContext, TablesLoader
from service.contracts.router import router as contracts_router
from service.contracts.router import score_checks
from service.db.engine import make_engine, session_factory
from service.db.migrate import require_migrated
from service.health.router import router as health_router
from service.journal import Journal
from service.metrics import Metrics
from service.registry.router import router as models_router
from service.runtime.batcher import MicroBatcher
from service.runtime.checker import ContractChecker
from service.runtime.directory import directory
from service.runtime.fast_lane import FastLane
from service.runtime.mlflow_source import mlflow_source
from service.runtime.models_holder import ModelHolder, ModelSource
from service.scores.read_model import ReadModel
from service.scores.router import router as scores_router
from service.token_cache import TokenCache
from service.warnings.router import router as warnings_router

log = logging.getLogger("techcredit.service")
API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    for router in (scores_router, contracts_router, warnings_router, models_router,
                   audit_router, cases_router, assessments_router):
        api.include_router(router)
    return api


def bands(settings: Settings) -> TierBands:
    return TierBands(settings.contract_tier_red, settings.contract_tier_orange,
                     settings.contract_tier_yellow, settings.contract_tier_blue)


def build_state(ctx: ServiceContext, tables: TablesLoader) -> None:
    """The registry state and entity directory (blocking: run in a worker thread)."""
    try:
        data = tables()
        ruleset = active_rules(ctx.settings)
        ctx.directory = directory(data)
        ctx.market = market_overview(data["contracts"])
        ctx.checker = ContractChecker(prepare(dict(data)), data["contracts"], ruleset,
                                      bands(ctx.settings))
        # The state is millions of long-lived objects: moving them out of the collector's
        # generations keeps full collections (tail latency) from walking them on every request.
        gc.collect()
        gc.freeze()
        ctx.state_problem = None
    except Exception as e:  # start-up goes on; /readyz says why checks are unavailable
        ctx.state_problem = f"registry state failed: {str(e).splitlines()[0] if str(e) else e!r}"
        log.exception("building the registry state failed")


def refresh_models(ctx: ServiceContext) -> None:
    if ctx.holder.refresh():
        ctx.metrics.swaps.inc()
        loaded = ctx.holder.current
        assert loaded is not None
        ctx.metrics.loaded([(r.name, r.version, r.alias or "") for r in
                            (loaded.anomaly_ref, loaded.credit_ref) if r is not None])


async def _build(ctx: ServiceContext, tables: TablesLoader, scores: ReadModel) -> None:
    """The registry state, then the score answers again: they show registry statuses."""
    await asyncio.to_thread(build_state, ctx, tables)
    await scores.rerender()


async def _keep_models_fresh(ctx: ServiceContext) -> None:
    await asyncio.to_thread(refresh_models, ctx)
    while True:
        await asyncio.sleep(ctx.settings.model_poll_seconds)
        await asyncio.to_thread(refresh_models, ctx)


def create_app(settings: Settings, tables: TablesLoader, models: ModelSource | None = None
               ) -> FastAPI:
    """The service. ``tables`` returns the standard tables (the curated store); ``models``
    defaults to the MLflow registry's champions."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.db_url)
        require_migrated(engine)
        reader = make_engine(settings.db_url, readonly=True)
        sessions = session_factory(engine)
        ctx = ServiceContext(settings, engine, sessions, session_factory(reader),
                             Journal(sessions), ModelHolder(models or mlflow_source(settings)),
                             metrics, TokenCache(settings.auth_cache_seconds))
        app.state.ctx = ctx
        app.state.scores = scores = ReadModel(reader, lambda: ctx.directory)
        app.state.checks = MicroBatcher(score_checks, wait_s=settings.check_batch_wait_seconds)
        tasks = [asyncio.create_task(_keep_models_fresh(ctx)),
                 asyncio.create_task(_build(ctx, tables, scores)),
                 asyncio.create_task(scores.poll(settings.scores_poll_seconds))]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            ctx.journal.close()
            engine.dispose()
            reader.dispose()

    metrics = Metrics()
    app = FastAPI(title="techcredit 科技市场信用评价与风险预警", version="1", lifespan=lifespan,
                  description="Scores with reasons, real-time contract checks, warnings, "
                              "overrides and the audit log. "
                              "评分、合同实时核查、预警、人工调整与审计。")
    errors.install(app)
    app.include_router(health_router)
    mount_console(app)
    app.include_router(api_router())
    app.add_middleware(FastLane)  # inside Timing and BodyLimit: measured and limited alike
    app.add_middleware(Timing, metrics=metrics)
    app.add_middleware(errors.BodyLimit, limit=settings.api_max_body_bytes)
    return app


class Timing:
    """ASGI middleware: latency per route template (not per raw path, which would let any
    client mint label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500

        async def sent(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(scope["method"], route, str(code)).observe(
                time.perf_counter() - start)
