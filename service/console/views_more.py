"""The console's assessment and model pages: a year's rankings and outcomes with their
reasons; the models serving now with their review decisions, and the drift alerts of the
monitoring flow."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from features.standard.enums import INSTITUTION_TYPE, REGION
from service.assessments import store as assessments
from service.auth import Permission, allowed
from service.console.messages import words
from service.console.render import page
from service.console.session import PATH, ConsoleLang, ConsoleUser
from service.console.views import refuse
from service.db.types import Role
from service.deps import Ctx, SessionDep, journal, record
from service.monitoring.models import DriftCheck, MonitorAlert

router = APIRouter(prefix=PATH, include_in_schema=False)
OUTCOMES = {"pass": ("通过", "pass"), "warning": ("警告", "warning"), "exit": ("退出", "exit")}


@router.get("/assessments", response_class=HTMLResponse)
async def assessment_page(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                          lang: ConsoleLang, year: int | None = None) -> HTMLResponse:
    """Rankings within comparable groups and outcomes of a year, with reasons."""
    if not allowed(user, Permission.read_assessments):
        return await refuse(ctx, request, user, lang, "read_assessments",
                            f"role {user.role.value} may not read_assessments")
    published_only = user.role == Role.institution
    years = assessments.assessments(session, published_only)
    chosen = next((a for a in years if a.year == year), years[0] if years else None)
    rows = assessments.results(session, chosen.id) if chosen else []
    if user.role == Role.institution:
        rows = [r for r in rows if r.institution_id == user.institution_id]
    i = 0 if lang == "zh" else 1
    counts = Counter(r.outcome for r in rows)
    table = [{"id": r.institution_id, "name": r.name, "group": r.group_key, "rank": r.rank,
              "size": r.group_size, "total": r.total, "outcome": r.outcome,
              "outcome_label": OUTCOMES[r.outcome][i],
              "adjusted": r.outcome != r.model_outcome,
              "type": INSTITUTION_TYPE.label(r.institution_type, lang),
              "region": REGION.label(r.region, lang),
              "reasons": r.reasons_zh if lang == "zh" else r.reasons_en}
             for r in sorted(rows, key=lambda r: (r.group_key, r.rank))]
    await journal(ctx, request, audits=[record(request, user, "read_assessments", "ok",
                                               detail={"year": year, "console": True})])
    return page(request, "assessments.html", lang, user, words(lang)["assessments"],
                years=[a.year for a in years], a=chosen, rows=table,
                counts={k: counts.get(k, 0) for k in OUTCOMES},
                outcome_names={k: v[i] for k, v in OUTCOMES.items()})


@router.get("/models", response_class=HTMLResponse)
async def models_page(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                      lang: ConsoleLang) -> HTMLResponse:
    """For reviewers: the versions serving (champion), their review decisions, and drift."""
    if not allowed(user, Permission.read_models):
        return await refuse(ctx, request, user, lang, "read_models",
                            f"role {user.role.value} may not read_models")
    loaded = ctx.holder.current
    served = []
    if loaded is not None:
        for ref in (loaded.anomaly_ref, loaded.credit_ref):
            if ref is not None:
                served.append({"name": ref.name, "version": ref.version, "alias": ref.alias,
                               "reviews": [r for r in loaded.reviews
                                           if r.model_name == ref.name]})
    alerts = session.scalars(select(MonitorAlert).order_by(MonitorAlert.id.desc())
                             .limit(24)).all()
    latest = alerts[0] if alerts else None
    checks = session.scalars(select(DriftCheck).where(
        DriftCheck.month == latest.month, DriftCheck.model_version == latest.model_version)
        .order_by(DriftCheck.psi.desc())).all() if latest else []
    await journal(ctx, request, audits=[record(request, user, "read_models", "ok",
                                               detail={"console": True})])
    return page(request, "models.html", lang, user, words(lang)["models"], served=served,
                alerts=alerts, checks=checks, problem=ctx.holder.problem,
                loaded_at=loaded.loaded_at if loaded else None)
