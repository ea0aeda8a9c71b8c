"""The console's pages: sign-in, overview, search, an entity, warnings, the audit log.

Pages read what the API reads, through the same grants and scope rules
(``service.core.permissions``);
each read and each refusal is audited as the API's are, under the same action names. Lists
page as the API's do (``limit``, ``cursor``), with a link to the next page.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from features.standard.enums import CONDUCT_KIND, CONTRACT_TYPE, REGION, TECH_FIELD
from models.rules.tier import Tier
from service.core.assessments.records import trend
from service.core.cases.lists import QueueCounts, queue_counts, standing
from service.core.cases.tables import Case
from service.core.contracts.directory import find
from service.core.db.audit import AuditFilter, entries
from service.core.db.console_sessions import close_session, open_session
from service.core.db.tables import ContractCheck, RiskWarning, Score
from service.core.db.tokens import Principal
from service.core.db.types import Role
from service.core.inputs import FREE_TEXT
from service.core.permissions import Permission, allowed, entity_denial, region_filter
from service.core.reports.charts import Column, HBar, Series, column_chart, hbar_chart, line_chart
from service.core.scores import warnings as warning_list
from service.core.scores.schemas import Grade, Kind
from service.core.scores.warnings import WarningFilter
from service.web.console.alt_text import summary
from service.web.console.messages import words
from service.web.console.render import (
    conducts,
    message,
    page,
    pager,
    refuse,
    regions,
    state_labels,
)
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
from service.web.paging import Paged

router = APIRouter(prefix=PATH, include_in_schema=False)


LOGIN_COOKIE = "tc_login"  # the sign-in form's token, before there is a session to key one


def _login_page(request: Request, ctx: Ctx, lang: ConsoleLang, next: str,
                status_code: int = 200, **flash: Any) -> HTMLResponse:
    """The sign-in form with a fresh token in a cookie and in the form (double submit): a page
    elsewhere can post neither, so nobody is signed in to a session they did not ask for."""
    token = secrets.token_urlsafe(32)
    answer = page(request, "login.html", lang, None, words(lang)["login"], status_code,
                  next=next if next.startswith(PATH) else PATH, login_token=token, **flash)
    answer.set_cookie(LOGIN_COOKIE, token, path=f"{PATH}/login", httponly=True,
                      samesite="strict", secure=ctx.settings.security.console_https,
                      max_age=1800)
    return answer


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, ctx: Ctx, lang: ConsoleLang, next: str = PATH
                     ) -> HTMLResponse:
    return _login_page(request, ctx, lang, next)


@router.post("/login")
async def login(request: Request, ctx: Ctx, lang: ConsoleLang,
                token: Annotated[str, Form(max_length=200)],
                next: Annotated[str, Form(max_length=500)] = PATH,
                login_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Open a session for a valid token; the cookie gets the session's id, never the token.
    Failures count against the address and the token prefix as the API's do."""
    token = token.strip()
    if not same_origin(request):
        raise await refuse_post(ctx, request, None, "cross-origin sign-in")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_token):
        raise await refuse_post(ctx, request, None, "sign-in form token missing or wrong")
    keys = AuthGuard.keys(request.client.host if request.client else None, token)
    try:
        await throttle(ctx, request, keys)
    except HTTPException as e:
        held = _login_page(request, ctx, lang, PATH, e.status_code,
                           flash=f"{e.status_code} {e.detail}", flash_error=True)
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
        return _login_page(request, ctx, lang, next, 401, flash=words(lang)["bad_token"],
                           flash_error=True)
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


def _grades(session: Session, user: Principal, as_of: date | None) -> Counter[str] | None:
    """Scores by grade as the user may count them: every listing role its regions', an
    institution its own score; None: the role reads no scores in bulk."""
    own = user.institution_id if user.role == Role.institution else None
    if not (allowed(user, Permission.list_scores) or own):
        return None
    q = select(Score.grade, func.count()).where(Score.as_of == as_of)
    if own:
        q = q.where(Score.entity_kind == "institution", Score.entity_id == own)
    elif (scope := region_filter(user)) is not None:
        q = q.where(Score.region.in_(scope))
    return Counter(dict(session.execute(q.group_by(Score.grade)).all()))


def _tiers(session: Session, user: Principal, as_of: date | None) -> Counter[str] | None:
    """Warnings by tier in the user's regions; None: the role may not read warnings."""
    if not allowed(user, Permission.read_warnings):
        return None
    q = select(RiskWarning.tier, func.count()).where(RiskWarning.as_of == as_of)
    if (scope := region_filter(user)) is not None:
        q = q.where(RiskWarning.region.in_(scope))
    return Counter(dict(session.execute(q.group_by(RiskWarning.tier)).all()))


def _open_cases(session: Session, user: Principal, today: date) -> QueueCounts | None:
    """Open and overdue cases the user may read (its regions', an institution's own); None:
    the role reads no cases."""
    if not allowed(user, Permission.read_cases):
        return None
    own = user.institution_id if user.role == Role.institution else None
    return queue_counts(session, today, region_filter(user), own)


@router.get("", response_class=HTMLResponse)
async def home(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
               lang: ConsoleLang) -> HTMLResponse:
    """The overview, holding only the figures the role and its regions may read: the home
    page is a read like any other, so the same grants and scopes apply and it is audited."""
    as_of = session.scalar(select(func.max(Score.as_of)))
    grades, tiers = _grades(session, user, as_of), _tiers(session, user, as_of)
    cases = _open_cases(session, user, ctx.today())
    chart = column_chart([Column(g, grades.get(g, 0)) for g in "ABCD"], summary(
        lang, words(lang)["grades"], [(g, grades.get(g, 0)) for g in "ABCD"])
                         ) if grades is not None else None
    shown = [name for name, v in (("scores", grades), ("warnings", tiers), ("cases", cases))
             if v is not None]
    await journal(ctx, request, audits=[record(request, user, "console.home", "ok", detail={
        "console": True, "shown": shown, "regions": list(region_filter(user) or ())})])
    return page(request, "home.html", lang, user, words(lang)["home"], as_of=as_of,
                scored=sum(grades.values()) if grades is not None else None,
                tiers=[(t.value, tiers.get(t, 0)) for t in Tier] if tiers is not None else None,
                open_cases=cases.open if cases is not None else None,
                overdue=cases.overdue if cases is not None else None,
                grade_chart=chart)


@router.get("/search", response_class=HTMLResponse)
async def search(request: Request, ctx: Ctx, user: ConsoleUser, lang: ConsoleLang,
                 paged: Paged,
                 q: Annotated[str, Query(max_length=200, pattern=FREE_TEXT)] = ""
                 ) -> HTMLResponse:
    """The entity directory, for the roles that read scores, within their scope: names and
    regions of institutions are what an office, auditor or assessor has no need to browse.
    The query is audited (what was looked for is part of who read what)."""
    if not allowed(user, Permission.read_score):
        return await refuse(ctx, request, user, lang, "console.search",
                            f"role {user.role.value} may not read_score")
    found = find(ctx.directory.values(), q, user, paged)
    results = [{"kind": e.kind, "entity_id": e.entity_id, "name": e.name, "status": e.status,
                "region_label": REGION.label(e.region, lang) if e.region else ""}
               for e in found.items]
    await journal(ctx, request, audits=[record(request, user, "console.search", "ok", detail={
        "q": q[:200], "results": len(results), "console": True})])
    return page(request, "search.html", lang, user, words(lang)["search"], q=q,
                results=results, pager=pager(request, found))


@router.get("/entities/{kind}/{entity_id}", response_class=HTMLResponse)
async def entity(kind: str, entity_id: str, request: Request, ctx: Ctx, session: SessionDep,
                 user: ConsoleUser, lang: ConsoleLang) -> HTMLResponse:
    """An entity's score, cases and checks; with the override and opening forms for those
    granted them (what the last form did is the banner :func:`page` shows)."""
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
        summary(lang, w["history"], [(h["as_of"], h["points"]) for h in history], "{:.0f}")
    ) if history else ""
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
                conducts=conducts(lang), case_ids=[c.id for c in cases])


@router.get("/warnings", response_class=HTMLResponse)
async def warnings(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                   lang: ConsoleLang, paged: Paged,
                   tier: Annotated[str, Query(pattern="^(red|orange|yellow|blue)?$")] = "",
                   region: Annotated[str, Query(pattern=r"^(\d{6})?$")] = "") -> HTMLResponse:
    """The latest batch's warnings by region and tier, and the list, newest first, a page at
    a time (a regulator limited to regions sees only theirs)."""
    if not allowed(user, Permission.read_warnings):
        return await refuse(ctx, request, user, lang, "read_warnings",
                             f"role {user.role.value} may not read_warnings")
    scope = WarningFilter(regions=user.regions or None,
                          as_of=warning_list.latest_as_of(session))
    counts = warning_list.by_region(session, scope)
    if region:  # a region outside the user's own shows nothing
        scope = replace(scope, regions=tuple(r for r in (region,)
                                             if scope.regions is None or r in scope.regions))
    found = warning_list.page(session, replace(scope, tier=tier or None), paged, counted=True)
    by_region = [{"label": label, "counts": [counts.get(code, {}).get(t, 0) for t in Tier]}
                 for code, label in regions(lang) if code in counts]
    await journal(ctx, request, audits=[record(request, user, "read_warnings", "ok",
                                               detail={"rows": len(found.items),
                                                       "console": True})])
    return page(request, "warnings.html", lang, user, words(lang)["warnings"],
                as_of=scope.as_of, items=found.items, total=found.total, by_region=by_region,
                regions=regions(lang), tier=tier, region=region, pager=pager(request, found))


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                lang: ConsoleLang, paged: Paged) -> HTMLResponse:
    """The audit log, newest first, a page at a time."""
    if not allowed(user, Permission.read_audit):
        return await refuse(ctx, request, user, lang, "read_audit",
                             f"role {user.role.value} may not read_audit")
    found = entries(session, AuditFilter(), paged, newest_first=True)
    await journal(ctx, request, audits=[record(request, user, "read_audit", "ok",
                                               detail={"console": True})])
    return page(request, "audit.html", lang, user, words(lang)["audit"], entries=found.items,
                pager=pager(request, found))


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
    w = words(lang)
    charts, regions_rows, flows = {}, [], []
    if m is not None:
        years = [str(y.year) for y in m.years]
        types = [HBar(CONTRACT_TYPE.label(s.code, lang), s.tech_amount_yi) for s in m.by_type]
        fields = [HBar(TECH_FIELD.label(s.code, lang), s.tech_amount_yi) for s in m.by_field]
        charts = {
            "contracts": column_chart(
                [Column(str(y.year), y.contracts) for y in m.years],
                summary(lang, w["contracts_by_year"], [(str(y.year), y.contracts)
                                                       for y in m.years])),
            "amount": column_chart(
                [Column(str(y.year), round(y.tech_amount_yi, 1)) for y in m.years],
                summary(lang, w["amount_by_year"], [(str(y.year), y.tech_amount_yi)
                                                    for y in m.years], "{:.1f}")),
            "index": line_chart(years, [Series("index", [y.index for y in m.years], 0,
                                               max(y.index for y in m.years) * 1.1, "#3b6ea8",
                                               fmt="{:.0f}")],
                                summary(lang, w["market_index"],
                                        [(str(y.year), y.index) for y in m.years], "{:.0f}")),
            "types": hbar_chart(types, summary(lang, f"{w['by_type']}{m.latest}",
                                               [(b.label, b.value) for b in types], "{:.1f}"),
                                scale_max=_nice(max(s.tech_amount_yi for s in m.by_type))),
            "fields": hbar_chart(fields, summary(lang, f"{w['by_field']}{m.latest}",
                                                 [(b.label, b.value) for b in fields], "{:.1f}"),
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
