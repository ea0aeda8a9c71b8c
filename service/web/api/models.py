"""Models for the people who answer for them: which versions answer now and who approved them
(``GET /models``); the champion, the challenger and their review reports; the reviewer's
promotion through the review gate; the drift alerts and their acknowledgement.

Every decision is audited under ``review_models``; a refused promotion is also recorded in
the MLflow review history (by :func:`models.registry.promote`), so nothing a reviewer tried
is lost.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from models.catalog import UnknownVersion
from service.core.model_registry import service
from service.core.model_registry.schemas import (
    AcknowledgeIn,
    AlertOut,
    CatalogOut,
    ModelsOut,
    PromoteIn,
    PromotionOut,
    ReviewOut,
    ServedModel,
)
from service.core.monitoring import records as monitoring
from service.core.paging import PageOut
from service.web.deps import (
    Ctx,
    ModelReader,
    ModelReviewer,
    SessionDep,
    journal,
    mark_audited,
    record,
)
from service.web.headers import REPORT_POLICY
from service.web.paging import Paged
from service.web.params import AlertId, ModelName, Version

router = APIRouter(tags=["models 模型"])


@router.get("/models", response_model=ModelsOut)
async def served_models(principal: ModelReader, ctx: Ctx, request: Request) -> ModelsOut:
    """The champion versions in use (anomaly: real-time checks; credit: the batch scores) with
    their review decisions, the approved rule set, and any registry problem."""
    loaded = ctx.holder.current
    models = []
    if loaded is not None:
        for ref, role in ((loaded.anomaly_ref, "contract checks 合同核查"),
                          (loaded.credit_ref, "entity scores 主体评分")):
            if ref is None:
                continue
            reviews = [ReviewOut.of(r) for r in loaded.reviews if r.model_name == ref.name]
            models.append(ServedModel(name=ref.name, version=ref.version, alias=ref.alias,
                                      role=role, reviews=reviews))
    rules = ctx.checker.ruleset if ctx.checker is not None else None
    await journal(ctx, request, audits=[record(request, principal, "read_models", "ok")])
    return ModelsOut(models=models, loaded_at=loaded.loaded_at if loaded else None,
                     rules_version=f"v{rules.version} ({rules.sha256[:12]})" if rules else None,
                     registry_problem=ctx.holder.problem)


@router.get("/models/{name}/versions", response_model=CatalogOut)
async def model_versions(name: ModelName, principal: ModelReader, ctx: Ctx,
                         request: Request) -> CatalogOut:
    """Champion, challenger and the latest versions, each with its headline figures, the gate
    as it would decide now and the decisions taken on it."""
    found = {c.model_name: c for c in await service.catalogs(ctx)}
    if name not in found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no production model {name} / 无此模型")
    await journal(ctx, request, audits=[record(request, principal, "read_models", "ok",
                                               detail={"model": name})])
    return CatalogOut.of(found[name])


@router.get("/models/{name}/versions/{version}/review", response_class=HTMLResponse)
async def review_report(name: ModelName, version: Version, principal: ModelReader, ctx: Ctx,
                        request: Request) -> HTMLResponse:
    """The version's review report as logged with its training run (HTML)."""
    try:
        html = await service.report(ctx, name, version)
    except UnknownVersion as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    await journal(ctx, request, audits=[record(request, principal, "read_models", "ok",
                                               detail={"model": name, "version": version,
                                                       "report": True})])
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_POLICY})


@router.post("/models/{name}/versions/{version}/promote", response_model=PromotionOut)
async def promote_version(name: ModelName, version: Version, body: PromoteIn,
                          principal: ModelReviewer, ctx: Ctx, request: Request) -> PromotionOut:
    """Make this version champion if the review gate passes, or despite it with ``override``
    (recorded). A refusal answers 409 with the gate's failures and is recorded too."""
    try:
        done = await service.decide(ctx, principal, name, version, body.note, body.override,
                                    record(request, principal, "review_models", "ok"))
    except LookupError as e:  # not a production model, or no such version (UnknownVersion)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{name} v{version}: {e}") from None
    if done.outcome == "refused":  # the core audited the refusal with the gate's figures
        mark_audited(request)
        raise HTTPException(status.HTTP_409_CONFLICT, {
            "rule": "gate_refused", "failures": done.gate.failures,
            "message": f"{name} v{version} fails the review gate; champion unchanged "
                       "/ 未通过评审门槛，冠军模型未变"})
    return PromotionOut(name=name, version=version, outcome=done.outcome,
                        gate_failures=done.gate.failures, serving=done.serving)


@router.get("/monitoring/alerts", response_model=PageOut[AlertOut])
async def drift_alerts(principal: ModelReader, ctx: Ctx, session: SessionDep,
                       request: Request, paged: Paged) -> PageOut[AlertOut]:
    """The drift alerts of the monthly monitoring, open ones first, then the newest."""
    out = PageOut[AlertOut].of(monitoring.alerts(session, paged), AlertOut.of)
    await journal(ctx, request, audits=[record(request, principal, "read_models", "ok",
                                               detail={"alerts": len(out.items)})])
    return out


@router.post("/monitoring/alerts/{alert_id}/acknowledge", response_model=AlertOut)
async def acknowledge_alert(alert_id: AlertId, body: AcknowledgeIn, principal: ModelReviewer,
                            ctx: Ctx, request: Request) -> AlertOut:
    """Record who read the alert and what they will do; once per alert."""
    try:
        alert = await service.acknowledge(ctx, principal, alert_id, body.note,
                                          record(request, principal, "review_models", "ok"))
    except monitoring.AlertMissing as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    except monitoring.AlertAlreadyAcknowledged as e:  # the core audited the refusal
        mark_audited(request)
        raise HTTPException(status.HTTP_409_CONFLICT, {"rule": "acknowledged",
                                                       "message": str(e)}) from None
    return AlertOut.of(alert)
