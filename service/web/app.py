"""The FastAPI application: ``create_app`` wires settings, database, models and routers.

Start-up never blocks on the slow parts: the database schema is checked at once (an
unmigrated database refuses to start, in one line), then the champion models load and the
real-time contract ledger is built in worker threads while ``/healthz`` already answers and
``/readyz`` says what is still missing. The champion alias is polled; a moved alias is loaded
in the background and swapped in whole (:mod:`service.core.champions.holder`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from features.settings import Settings
from service.core.champions.holder import ModelHolder, ModelSource
from service.core.champions.mlflow_source import mlflow_source
from service.core.context import ServiceContext, TablesLoader
from service.core.contracts.batcher import MicroBatcher
from service.core.contracts.check import score_checks
from service.core.contracts.ledger import Fingerprint, keep_state_fresh
from service.core.contracts.stored import Pinned, Unversioned
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import require_migrated
from service.core.journal import Journal
from service.core.metrics import Metrics
from service.core.model_registry.service import refresh_models
from service.core.scores.read_model import ReadModel
from service.core.token_cache import TokenCache
from service.web import errors, openapi
from service.web.api.assessments import router as assessments_router
from service.web.api.audit import router as audit_router
from service.web.api.cases import router as cases_router
from service.web.api.contracts import router as contracts_router
from service.web.api.health import router as health_router
from service.web.api.models import router as models_router
from service.web.api.scores import router as scores_router
from service.web.api.warnings import router as warnings_router
from service.web.console.app import mount_console
from service.web.fast_lane import FastLane
from service.web.guard import AuthGuard
from service.web.headers import SecurityHeaders

log = logging.getLogger("techcredit.service")
API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    for router in (scores_router, contracts_router, warnings_router, models_router,
                   audit_router, cases_router, assessments_router):
        api.include_router(router)
    return api


async def _summarise_refusals(ctx: ServiceContext, guard: AuthGuard) -> None:
    """Each minute, one audit entry per source for the attempts held back the minute before."""
    while True:
        await asyncio.sleep(15)
        if records := guard.drain():
            await ctx.journal.write((), records)


async def _keep_models_fresh(ctx: ServiceContext) -> None:
    await asyncio.to_thread(refresh_models, ctx)
    while True:
        await asyncio.sleep(ctx.settings.polling.model_seconds)
        await asyncio.to_thread(refresh_models, ctx)


def create_app(settings: Settings, tables: TablesLoader, models: ModelSource | None = None,
               fingerprint: Fingerprint | None = None,
               store: Callable[[], Pinned] | None = None) -> FastAPI:
    """The service. ``tables`` returns the standard tables; ``store``, when given, pins the
    curated store's current version instead, whose contract ledger snapshot is loaded rather
    than built (:mod:`service.core.contracts.stored`); ``models`` defaults to the MLflow
    registry's champions; ``fingerprint`` names the tables' current version, and the contract
    ledger is obtained again when it (or the rule set in force) changes
    (:mod:`service.core.contracts.ledger`; None: once)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.db_url)
        require_migrated(engine)
        reader = make_engine(settings.db_url, readonly=True)
        sessions = session_factory(engine)
        ctx = ServiceContext(
            settings, engine, sessions, session_factory(reader), Journal(sessions),
            ModelHolder(models or mlflow_source(settings)), metrics,
            TokenCache(settings.api.auth_cache_seconds),
            ReadModel(reader, lambda: ctx.directory),
            MicroBatcher(score_checks, wait_s=settings.api.check_batch_wait_seconds))
        app.state.ctx = ctx
        tasks = [asyncio.create_task(_keep_models_fresh(ctx)),
                 asyncio.create_task(_summarise_refusals(ctx, guard)),
                 asyncio.create_task(keep_state_fresh(
                     ctx, store or (lambda: Unversioned(tables)), fingerprint)),
                 asyncio.create_task(ctx.scores.poll(settings.polling.scores_seconds))]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if records := guard.drain(everything=True):
                await ctx.journal.write((), records)
            ctx.journal.close()
            engine.dispose()
            reader.dispose()

    metrics = Metrics()
    guard = AuthGuard(settings.security.auth_failures_per_minute)
    app = FastAPI(title="techcredit 科技市场信用评价与风险预警", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Scores with reasons, real-time contract checks, warnings, "
                              "overrides and the audit log. "
                              "评分、合同实时核查、预警、人工调整与审计。")
    app.state.guard = guard
    errors.install(app)
    if settings.security.api_docs:
        app.add_api_route("/docs", _docs, include_in_schema=False)
    app.include_router(health_router)
    mount_console(app)
    app.include_router(api_router())
    openapi.install(app)
    app.add_middleware(FastLane)  # inside Timing and BodyLimit: measured and limited alike
    app.add_middleware(Timing, metrics=metrics)
    app.add_middleware(errors.BodyLimit, limit=settings.api.max_body_bytes)
    # outermost: on every answer, the 413s included
    app.add_middleware(SecurityHeaders, https=settings.security.console_https)
    return app


# Swagger UI's page loads its script and stylesheet from this CDN and starts with an inline
# script; the page gets a policy allowing exactly that, the rest of the service allows neither.
SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (f"default-src 'self'; script-src {SWAGGER_CDN} 'unsafe-inline'; "
               f"style-src {SWAGGER_CDN}; img-src 'self' data: https://fastapi.tiangolo.com; "
               "frame-ancestors 'none'")


async def _docs() -> HTMLResponse:
    """Swagger UI (``TECHCREDIT_API_DOCS``): off by default, since its assets come from a CDN
    that production machines cannot reach; ``/openapi.json`` is always served."""
    page = get_swagger_ui_html(openapi_url="/openapi.json", title="techcredit API")
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for who may speak for the caller: only the configured proxies'
    ``X-Forwarded-For``/``-Proto`` are believed (uvicorn would otherwise believe any local
    process's, and a forged address would reach the audit log); none configured, none read."""
    proxies = settings.security.trusted_proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": ",".join(proxies) or None}


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
