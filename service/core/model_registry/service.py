"""The reviewer's decisions, shared by the API and the console: read the model catalog and a
review report, promote a version through the review gate, acknowledge a drift alert.

MLflow calls block, so they run in a worker thread; a promotion then reloads the serving
models at once rather than at the next poll, so the reviewer's next request is answered by
the model they approved.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

from mlflow.exceptions import MlflowException

from models.catalog import ModelCatalog, UnknownVersion, catalog, review_report
from models.gate import GateDecision
from models.registry import PRODUCTION_MODELS, GateRefused, promote, store_for
from service.core.context import ServiceContext
from service.core.db.audit import AuditRecord, audited
from service.core.db.tokens import Principal
from service.core.monitoring import records as monitoring
from service.core.monitoring.tables import MonitorAlert


@dataclass(frozen=True)
class Promotion:
    model_name: str
    version: str
    outcome: str  # promoted, overridden (gate failed, reviewer overrode) or refused
    gate: GateDecision
    serving: bool  # whether the service answers with this version now


async def catalogs(ctx: ServiceContext) -> list[ModelCatalog]:
    cached = ctx.catalogs.fresh(ctx.settings.polling.models_page_seconds)
    if cached is not None:
        return cached
    store, thresholds = store_for(ctx.settings), ctx.settings.gate
    started = time.monotonic()
    value = await asyncio.to_thread(
        lambda: [catalog(store, name, thresholds) for name in PRODUCTION_MODELS])
    ctx.catalogs.keep(value, started)
    return value


async def report(ctx: ServiceContext, model_name: str, version: str) -> str:
    return await asyncio.to_thread(review_report, store_for(ctx.settings), model_name, version)


async def decide(ctx: ServiceContext, principal: Principal, model_name: str, version: str,
                 note: str, override: bool, stamp: AuditRecord) -> Promotion:
    """Promote with the principal as the recorded reviewer; a refusal is recorded in the
    review history too and answered as a :class:`Promotion` with outcome ``refused``. Either
    way the decision is audited (``stamp``: the request's record, completed here) before it
    is answered."""
    if model_name not in PRODUCTION_MODELS:
        raise LookupError(f"{model_name} is not a production model / 非生产模型")

    def run() -> Promotion:
        try:
            gate = promote(store_for(ctx.settings), model_name, version,
                           reviewer=principal.user, note=note,
                           thresholds=ctx.settings.gate, override=override)
        except GateRefused as e:
            return Promotion(model_name, version, "refused", e.decision, False)
        except MlflowException as e:
            if e.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise UnknownVersion(f"{model_name} has no version {version} / 无此版本") from None
            raise
        refresh_models(ctx)
        loaded = ctx.holder.current
        serving = loaded is not None and any(
            ref is not None and (ref.name, ref.version) == (model_name, version)
            for ref in (loaded.anomaly_ref, loaded.credit_ref))
        return Promotion(model_name, version, "promoted" if gate.passed else "overridden", gate,
                         serving)

    try:
        done = await asyncio.to_thread(run)
    finally:  # a refusal is a decision on the record too; dropped here, on the event loop,
        ctx.catalogs.drop()  # where reads keep theirs, so none can slip in between
    await ctx.journal.write((), [replace(
        stamp, outcome="refused" if done.outcome == "refused" else "ok",
        detail={**stamp.detail, "model": model_name, "version": version,
                "outcome": done.outcome, "gate_failures": done.gate.failures, "note": note})])
    return done


def refresh_models(ctx: ServiceContext) -> None:
    """Ask the registry which versions the aliases name and swap in a moved set, counting the
    swap and naming the versions served in the metrics (the poll and a promotion alike).
    Blocking: run in a worker thread."""
    if ctx.holder.refresh():
        ctx.metrics.swaps.inc()
        loaded = ctx.holder.current
        assert loaded is not None
        ctx.metrics.loaded([(r.name, r.version, r.alias or "") for r in
                            (loaded.anomaly_ref, loaded.credit_ref) if r is not None])


async def acknowledge(ctx: ServiceContext, principal: Principal, alert_id: int, note: str,
                      stamp: AuditRecord) -> MonitorAlert:
    """Acknowledge in the same transaction as its audit entry (``stamp``: the request's
    record, completed here with the alert); a second acknowledgement is refused, and the
    refusal audited."""
    def audit(alert: MonitorAlert) -> list[AuditRecord]:
        return [replace(stamp, detail={**stamp.detail, "alert_id": alert.id, "note": note,
                                       "model": f"{alert.model_name} v{alert.model_version}",
                                       "month": alert.month, "acknowledged": True})]

    try:
        return await asyncio.to_thread(audited, ctx.sessions, lambda s: monitoring.acknowledge(
            s, alert_id, principal.user, note, ctx.clock()), audit)
    except monitoring.AlertAlreadyAcknowledged:  # a refused decision is on the record too
        await ctx.journal.write((), [replace(stamp, outcome="refused", detail={
            **stamp.detail, "alert_id": alert_id, "note": note, "rule": "acknowledged"})])
        raise
