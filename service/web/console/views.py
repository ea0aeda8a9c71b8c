"""The console's pages: sign-in, overview, search, an entity, warnings, the audit log.

Pages read what the API reads, through the same grants and scope rules
(``service.core.permissions``);
each read and each refusal is audited as the API's are, under the same action names.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Annotated, get_args

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from features.standard.enums import CONDUCT_KIND, CONTRACT_TYPE, REGION, TECH_FIELD
from service.core.assessments.records import trend
from service.core.cases.lists import queue, standing
from service.core.cases.tables import Case
from service.core.db.console_sessions import close_session, open_session
from service.core.db.tables import AuditEntry, ContractCheck, RiskWarning, Score
from service.core.db.types import Role
from service.core.permissions import Permission, allowed, entity_denial
from service.core.reports.charts import Column, HBar, Series, column_chart, hbar_chart, line_chart
from service.core.scores.schemas import Grade, Kind
from service.web.console.messages import words
from service.web.console.render import TIERS, conducts, message, page, refuse, regions, state_labels
from service.web.console.session import (
    COOKIE,
    PATH,
    ConsoleLang,
    ConsoleUser,
    refuse_post,
    same_origin,
)
from service.web.deps import Ctx, SessionDep, guard_of, journal, record, throttle
from service.web.guard import AuthGuard

router = APIRouter(prefix=PATH, include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, lang: ConsoleLang, next: str = PATH) -> HTMLResponse:
    return page(request, "login.html", lang, None, words(lang)["login"],
                next=next if next.startswith(PATH) else PATH)


@router.post("/login")
async def login(request: Request, ctx: Ctx, lang: ConsoleLang,
                token: Annotated[str, Form(max_length=200)],
                next: Annotated[str, Form(max_length=500)] = PATH) -> Response:
    """Open a session for a valid token; the cookie gets the session's id, never the token.
    Failures count against the address and the token prefix as the API's do."""
    token = token.strip()
    if not same_origin(request):
        raise await refuse_post(ctx, request, None, "cross-origin sign-in")
    keys = AuthGuard.keys(request.client.host if request.client else None, token)
    try:
        await throttle(ctx, request, keys)
    except HTTPException as e:
        held = page(request, "login.html", lang, None, words(lang)["login"], e.status_code,
                    next=PATH, flash=f"{e.status_code} {e.detail}", flash_error=True)
        held.headers.update(e.headers or {})
        return held
    lifetime = timedelta(hours=ctx.settings.security.console_session_hours)
    with ctx.sessions.begin() as session:
        opened = open_session(session, token, lifetime)
    await journal(ctx, request, audits=[record(
        request, opened[1] if opened else None, "console.login",
        "ok" if opened else "unauthenticated")])
    if opened is None:
        guard_of(request).failed(keys)
        return page(request, "login.html", lang, None, words(lang)["login"], 401,
                    next=next, flash=words(lang)["bad_token"], flash_error=True)
    response = RedirectResponse(next if next.startswith(PATH) else PATH, status_code=303)
    response.set_cookie(COOKIE, opened[0], path=PATH, httponly=True, samesite="strict",
                        secure=ctx.settings.security.console_https,
                        max_age=int(lifetime.total_seconds()))
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx, user: ConsoleUser) -> Response:
    """Sign out by the page's form (a link could be followed by anyone's page): the session
    ends on the server, so a copy of the cookie is worthless too."""
    with ctx.sessions.begin() as session:
        close_session(session, request.cookies.get(COOKIE, ""))
    await journal(ctx, request, audits=[record(request, user, "console.logout", "ok")])
    response = RedirectResponse(f"{PATH}/login", status_code=303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


@router.get("", response_class=HTMLResponse)
async def home(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
               lang: ConsoleLang) -> HTMLResponse:
    as_of = session.scalar(select(func.max(Score.as_of)))
    grades = Counter(dict(session.execute(select(Score.grade, func.count()).where(
        Score.as_of == as_of).group_by(Score.grade)).all())) if as_of else Counter()
    tiers = Counter(dict(session.execute(select(RiskWarning.tier, func.count()).where(
        RiskWarning.as_of == as_of).group_by(RiskWarning.tier)).all())) if as_of else Counter()
    items = queue(session, ctx.today())
    chart = column_chart([Column(g, grades.get(g, 0)) for g in "ABCD"], words(lang)["grades"])
    await journal(ctx, request, audits=[record(request, user, "console.home", "ok",
                                               detail={"console": True})])
    return page(request, "home.html", lang, user, words(lang)["home"], as_of=as_of,
                scored=sum(grades.values()), tiers=[(t, tiers.get(t, 0)) for t in TIERS],
                open_cases=len(items), overdue=sum(i.overdue for i in items),
                grade_chart=chart)


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, ctx: Ctx, user: ConsoleUser, lang: ConsoleLang,
                 q: str = "") -> HTMLResponse:
    needle = q.strip().lower()
    found = [e for e in ctx.directory.values()
             if needle and (needle in e.entity_id.lower() or needle in (e.name or "").lower())
             and entity_denial(user, e.kind, e.entity_id, e.region) is None][:50]
    results = [{"kind": e.kind, "entity_id": e.entity_id, "name": e.name, "status": e.status,
                "region_label": REGION.label(e.region, lang) if e.region else ""}
               for e in found]
    await journal(ctx, request, audits=[record(request, user, "console.search", "ok", detail={
        "q": q[:200], "results": len(results), "console": True})])
    return page(request, "search.html", lang, user, words(lang)["search"], q=q,
                results=results)


@router.get("/entities/{kind}/{entity_id}", response_class=HTMLResponse)
async def entity(kind: str, entity_id: str, request: Request, ctx: Ctx, session: SessionDep,
                 user: ConsoleUser, lang: ConsoleLang, msg: str = "",
                 case: str = "") -> HTMLResponse:
    """An entity's score, cases and checks; with the override and opening forms for those
    granted them (``msg`` and ``case``: what the last form did)."""
    w = words(lang)
    info = ctx.directory.get((kind, entity_id))
    entry = await ctx.scores.get((kind, entity_id)) if kind in (
        "institution", "broker") else None
    if info is None and entry is None:
        return message(request, lang, user, w["not_found"], f"{kind} {entity_id}", 404)
    score = json.loads(entry.body) if entry is not None else None
    region = score["region"] if score else info.region if info else None
    if not allowed(user, Permission.read_score):
        return await refuse(ctx, request, user, lang, "read_score",
                             f"role {user.role.value} may not read_score", kind, entity_id)
    denial = entity_denial(user, kind, entity_id, region)
    if denial is not None:
        return await refuse(ctx, request, user, lang, "read_score", denial, kind, entity_id)
    party = ContractCheck.institution_id if kind == "institution" else ContractCheck.broker_id
    checks = session.scalars(select(ContractCheck).where(party == entity_id).order_by(
        ContractCheck.id.desc()).limit(20)).all()
    cases = session.scalars(select(Case).where(Case.subject_kind == kind,
                                               Case.subject_id == entity_id)
                            .order_by(Case.id.desc())).all()
    labels = state_labels(lang)
    outcomes = [{"year": a.year, "state": a.state, "rank": r.rank, "size": r.group_size,
                 "total": r.total, "outcome": r.outcome,
                 "reasons": r.reasons_zh if lang == "zh" else r.reasons_en}
                for a, r in (trend(session, entity_id, user.role == Role.institution)
                             if kind == "institution" else [])]
    history = list(reversed(score["history"])) if score else []
    chart = line_chart([h["as_of"] for h in history], [Series(
        w["score"], [h["points"] for h in history],
        min((h["points"] for h in history), default=0) - 20,
        max((h["points"] for h in history), default=1) + 20, "#3b6ea8", fmt="{:.0f}")],
        w["history"]) if history else ""
    await journal(ctx, request, audits=[record(request, user, "read_score", "ok", kind,
                                               entity_id, {"console": True})])
    return page(request, "entity.html", lang, user, entity_id, kind=kind, entity_id=entity_id,
                kind_label=w.get(kind, kind), name=info.name if info else None, score=score,
                registry_status=info.status if info else None,
                standing=standing(session, kind, entity_id, ctx.today()),
                history_chart=chart, checks=checks, outcomes=outcomes,
                cases=[{"id": c.id, "state_label": labels[c.state],
                        "conduct_label": CONDUCT_KIND.label(c.conduct, lang) if c.conduct
                        else w["to_be_established"],
                        "publication_ends": c.publication_ends} for c in cases],
                can_override=allowed(user, Permission.override) and kind in get_args(Kind),
                can_open=allowed(user, Permission.work_cases), grades=get_args(Grade),
                conducts=conducts(lang), flash=msg or None, flash_error=msg[:1] == "4",
                flash_case=next((c.id for c in cases if str(c.id) == case), None))


@router.get("/warnings", response_class=HTMLResponse)
async def warnings(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                   lang: ConsoleLang, tier: str = "", region: str = "") -> HTMLResponse:
    if not allowed(user, Permission.read_warnings):
        return await refuse(ctx, request, user, lang, "read_warnings",
                             f"role {user.role.value} may not read_warnings")
    as_of = session.scalar(select(func.max(RiskWarning.as_of)))
    q = select(RiskWarning).where(RiskWarning.as_of == as_of)
    if user.regions:
        q = q.where(RiskWarning.region.in_(user.regions))
    rows = session.scalars(q.order_by(RiskWarning.id)).all()
    counts: dict[str, Counter[str]] = {}
    for r in rows:
        counts.setdefault(r.region or "", Counter())[r.tier] += 1
    by_region = [{"label": label, "counts": [counts.get(code, Counter()).get(t, 0)
                                             for t in TIERS]}
                 for code, label in regions(lang) if code in counts]
    items = [r for r in rows if (not tier or r.tier == tier) and (not region or
                                                                  r.region == region)]
    await journal(ctx, request, audits=[record(request, user, "read_warnings", "ok",
                                               detail={"rows": len(items), "console": True})])
    return page(request, "warnings.html", lang, user, words(lang)["warnings"], as_of=as_of,
                items=items[:500], by_region=by_region, regions=regions(lang), tier=tier,
                region=region)


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                lang: ConsoleLang) -> HTMLResponse:
    if not allowed(user, Permission.read_audit):
        return await refuse(ctx, request, user, lang, "read_audit",
                             f"role {user.role.value} may not read_audit")
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(100)).all()
    await journal(ctx, request, audits=[record(request, user, "read_audit", "ok",
                                               detail={"console": True})])
    return page(request, "audit.html", lang, user, words(lang)["audit"], entries=entries)


def _nice(top: float) -> float:
    """A round axis maximum (ticks at quarters read 25, 50, …, not 28.43)."""
    step = 10 ** max(0, len(str(int(top))) - 2)
    return float(-(-top // step) * step) or 1.0


@router.get("/market", response_class=HTMLResponse)
async def market(request: Request, ctx: Ctx, user: ConsoleUser, lang: ConsoleLang
                 ) -> HTMLResponse:
    """Contracts and amounts by year, type, field and region, flows between regions and the
    market development index (docs/market-index.md)."""
    m = ctx.market_index
    charts, regions_rows, flows = {}, [], []
    if m is not None:
        years = [str(y.year) for y in m.years]
        charts = {
            "contracts": column_chart([Column(str(y.year), y.contracts) for y in m.years], ""),
            "amount": column_chart([Column(str(y.year), round(y.tech_amount_yi, 1))
                                    for y in m.years], ""),
            "index": line_chart(years, [Series("index", [y.index for y in m.years], 0,
                                               max(y.index for y in m.years) * 1.1, "#3b6ea8",
                                               fmt="{:.0f}")], ""),
            "types": hbar_chart([HBar(CONTRACT_TYPE.label(s.code, lang), s.tech_amount_yi)
                                 for s in m.by_type], "",
                                scale_max=_nice(max(s.tech_amount_yi for s in m.by_type))),
            "fields": hbar_chart([HBar(TECH_FIELD.label(s.code, lang), s.tech_amount_yi)
                                  for s in m.by_field], "",
                                 scale_max=_nice(max(s.tech_amount_yi for s in m.by_field))),
        }
        regions_rows = [{"label": REGION.label(s.code, lang), "contracts": s.contracts,
                         "amount": s.tech_amount_yi} for s in m.by_region]
        flows = [{"src": REGION.label(f.seller_region, lang),
                  "dst": REGION.label(f.buyer_region, lang), "contracts": f.contracts,
                  "amount": f.tech_amount_yi} for f in m.flows]
    await journal(ctx, request, audits=[record(request, user, "console.market", "ok",
                                               detail={"console": True})])
    return page(request, "market.html", lang, user, words(lang)["market"], m=m, charts=charts,
                regions_rows=regions_rows, flows=flows)
