"""The reviewers' pages: per model the champion and the challenger side by side with their
figures, the gate as it would decide now and the decisions taken; the review report itself;
the promotion form; the drift alerts with their acknowledgement.

Decisions go through :mod:`service.core.model_registry.service`, as the API's do, and are audited
under the same action (``review_models``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from mlflow.exceptions import MlflowException
from pydantic import ValidationError

from models.catalog import HEADLINE, UnknownVersion
from service.core.model_registry import service
from service.core.model_registry.schemas import AcknowledgeIn, PromoteIn
from service.core.monitoring import records as monitoring
from service.core.permissions import Permission, allowed
from service.web.console.messages import words
from service.web.console.refusals import conflict, invalid, sentence
from service.web.console.render import back, gate_failures, message, page, refuse
from service.web.console.session import PATH, ConsoleLang, ConsoleUser
from service.web.deps import Ctx, SessionDep, journal, record
from service.web.headers import REPORT_POLICY
from service.web.params import AlertId, ModelName, Version

router = APIRouter(prefix=f"{PATH}/models", include_in_schema=False)
FormText = Annotated[str, Form()]  # the API's schema checks it: a refusal is a message


@router.get("", response_class=HTMLResponse)
async def models_page(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                      lang: ConsoleLang) -> HTMLResponse:
    if not allowed(user, Permission.read_models):
        return await refuse(ctx, request, user, lang, "read_models",
                            f"role {user.role.value} may not read_models")
    alerts = monitoring.recent_alerts(session)
    latest = max(alerts, key=lambda a: a.id, default=None)
    checks = monitoring.month_checks(session, latest) if latest else []
    problem = ctx.holder.problem
    try:
        catalogs = await service.catalogs(ctx)
    except (MlflowException, OSError) as e:  # the registry unreachable: say so, keep the page
        catalogs, problem = [], f"registry: {e}"
    await journal(ctx, request, audits=[record(request, user, "read_models", "ok",
                                               detail={"console": True})])
    return page(request, "models.html", lang, user, words(lang)["models"], catalogs=catalogs,
                gate_failures=lambda gate: gate_failures(gate, lang),
                headline=HEADLINE, alerts=alerts, checks=checks, problem=problem,
                loaded=ctx.holder.current, may_review=allowed(user, Permission.review_models))


@router.get("/{name}/{version}/review", response_class=HTMLResponse)
async def review_report(name: ModelName, version: Version, request: Request, ctx: Ctx,
                        user: ConsoleUser, lang: ConsoleLang) -> HTMLResponse:
    if not allowed(user, Permission.read_models):
        return await refuse(ctx, request, user, lang, "read_models",
                            f"role {user.role.value} may not read_models")
    try:
        html = await service.report(ctx, name, version)
    except UnknownVersion as e:
        return message(request, lang, user, words(lang)["not_found"], str(e), 404)
    await journal(ctx, request, audits=[record(request, user, "read_models", "ok", detail={
        "model": name, "version": version, "report": True, "console": True})])
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_POLICY})


@router.post("/{name}/{version}/promote")
async def promote(name: ModelName, version: Version, request: Request, ctx: Ctx,
                  user: ConsoleUser, lang: ConsoleLang, note: FormText = "",
                  override: Annotated[bool, Form()] = False) -> Response:
    w = words(lang)
    if not allowed(user, Permission.review_models):
        return await refuse(ctx, request, user, lang, "review_models",
                            f"role {user.role.value} may not review_models")
    try:
        body = PromoteIn.model_validate({"note": note, "override": override})
    except ValidationError as e:
        return _back(request, invalid(lang, e), error=True)
    try:
        done = await service.decide(ctx, user, name, version, body.note, body.override,
                                    record(request, user, "review_models", "ok",
                                           detail={"console": True}))
    except LookupError as e:  # not a production model, or no such version
        await journal(ctx, request, audits=[record(
            request, user, "review_models", "not_found",
            detail={"model": name, "version": version, "reason": str(e), "console": True})])
        return _back(request, error=True, note=sentence(lang, [f"{w['not_found']}: {e}"]))
    if done.outcome == "refused":
        return _back(request, error=True, note=sentence(lang, [
            f"{name} v{version} {w['gate_refused']}",
            *gate_failures(done.gate, lang)]))
    return _back(request, f"{name} v{version}: {w['outcome_' + done.outcome]} → "
                          f"{w['now_champion']}" + (f" ({w['serving']})" if done.serving else ""))


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(alert_id: AlertId, request: Request, ctx: Ctx, user: ConsoleUser,
                      lang: ConsoleLang, note: FormText = "") -> Response:
    w = words(lang)
    if not allowed(user, Permission.review_models):
        return await refuse(ctx, request, user, lang, "review_models",
                            f"role {user.role.value} may not review_models")
    try:
        body = AcknowledgeIn.model_validate({"note": note})
    except ValidationError as e:
        return _back(request, invalid(lang, e), error=True)
    stamp = record(request, user, "review_models", "ok", detail={"console": True})
    try:
        alert = await service.acknowledge(ctx, user, alert_id, body.note, stamp)
    except monitoring.AlertMissing as e:
        await journal(ctx, request, audits=[record(
            request, user, "review_models", "not_found",
            detail={"alert_id": alert_id, "reason": str(e), "console": True})])
        return _back(request, error=True, note=sentence(lang, [f"{w['not_found']}: {e}"]))
    except monitoring.AlertAlreadyAcknowledged as e:
        return _back(request, error=True, note=conflict(lang, e))
    return _back(request, f"{w['acknowledged']}: #{alert.id} {alert.month} "
                 f"{alert.model_name} v{alert.model_version}")


def _back(request: Request, note: str, error: bool = False) -> Response:
    return back(request, f"{PATH}/models", note, error)
