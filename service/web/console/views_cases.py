"""The console's case pages: the queue with deadlines, a case with its events and evidence,
and the allowed transitions as buttons — posted through the same service call and rules as
``POST /api/v1/cases/{id}/actions/{action}``."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from service.core.cases import lists, records, service
from service.core.cases.access import scope_denial
from service.core.cases.enums import Severity
from service.core.cases.machine import BY_ACTION, Action, Party, available
from service.core.cases.schemas import MEASURES
from service.core.inputs import FREE_TEXT, MULTILINE_TEXT
from service.core.permissions import Permission, allowed
from service.web.console.messages import words
from service.web.console.refusals import conflict, missing
from service.web.console.render import (
    back,
    conducts,
    event_label,
    message,
    page,
    pager,
    refuse,
    severities,
)
from service.web.console.session import PATH, ConsoleLang, ConsoleUser
from service.web.deps import Ctx, SessionDep, journal, record
from service.web.paging import Paged
from service.web.params import RowId

router = APIRouter(prefix=PATH, include_in_schema=False)


@router.get("/cases", response_class=HTMLResponse)
async def case_queue(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                     lang: ConsoleLang, paged: Paged) -> HTMLResponse:
    """Open cases, the most urgent first, a page at a time."""
    if not allowed(user, Permission.work_cases):
        return await refuse(ctx, request, user, lang, "work_cases",
                             f"role {user.role.value} may not work_cases")
    found = lists.queue(session, ctx.today(), lists.QueueFilter(user.regions or None), paged)
    await journal(ctx, request, audits=[record(request, user, "read_cases", "ok", detail={
        "queue": len(found.items), "console": True})])
    return page(request, "cases.html", lang, user, words(lang)["queue"], items=found.items,
                pager=pager(request, found))


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: RowId, request: Request, ctx: Ctx, session: SessionDep,
                    user: ConsoleUser, lang: ConsoleLang) -> HTMLResponse:
    w = words(lang)
    c = records.get(session, case_id)
    if c is None:
        return message(request, lang, user, w["not_found"], f"case {case_id}", 404)
    denial = scope_denial(user, c) if allowed(user, Permission.read_cases) else \
        f"role {user.role.value} may not read_cases"
    if denial is not None:
        return await refuse(ctx, request, user, lang, "read_cases", denial, c.subject_kind,
                             c.subject_id)
    buttons = []
    for action in available(records.facts(c), ctx.today()):
        t = BY_ACTION[action]
        need = Permission.answer_case if t.party == Party.subject else Permission.work_cases
        if allowed(user, need):
            buttons.append({"action": action.value, "requires": t.requires,
                            "label": t.zh if lang == "zh" else t.en})
    events, files, measures = (records.events(session, c.id), records.files(session, c.id),
                               records.measures(session, c.id))
    await journal(ctx, request, audits=[record(request, user, "read_cases", "ok",
                                               c.subject_kind, c.subject_id,
                                               {"case_id": c.id, "console": True})])
    return page(request, "case.html", lang, user, f"#{c.id}", c=c, actions=buttons,
                can_assign=allowed(user, Permission.work_cases) and c.active_key is not None,
                events=[(e, event_label(e.action, lang)) for e in events],
                conducts=conducts(lang), severities=severities(lang), files=files,
                measures=measures,
                can_upload=allowed(user, Permission.answer_case),
                can_measure=allowed(user, Permission.work_cases) and records.punishable(c),
                measure_kinds=MEASURES, today=ctx.today())


@router.post("/cases/{case_id}/act")
async def case_act(case_id: RowId, request: Request, ctx: Ctx, session: SessionDep,
                   user: ConsoleUser, lang: ConsoleLang,
                   action: Annotated[Action, Form()], reason: Annotated[str, Form(max_length=4000,
                                                                         pattern=MULTILINE_TEXT)],
                   expected_version: Annotated[int | None, Form(ge=1, le=2**31)] = None,
                   conduct: Annotated[str | None, Form(max_length=32)] = None,
                   severity: Annotated[Severity | None, Form()] = None,
                   basis: Annotated[str | None, Form(max_length=1000, pattern=FREE_TEXT)] = None,
                   decision_number: Annotated[str | None, Form(max_length=64,
                                                               pattern=FREE_TEXT)] = None
                   ) -> Response:
    t = BY_ACTION[action]
    need = Permission.answer_case if t.party == Party.subject else Permission.work_cases
    c = records.get(session, case_id)
    if c is None:
        return message(request, lang, user, words(lang)["not_found"], f"case {case_id}", 404)
    denial = scope_denial(user, c) if allowed(user, need) and t.party != Party.system else \
        f"role {user.role.value} may not {need.value}"
    if denial is not None:
        return await refuse(ctx, request, user, lang, need.value, denial, c.subject_kind,
                             c.subject_id)
    session.close()
    given = records.ActionInput(reason=reason, conduct=conduct,
                              severity=severity, basis=basis, decision_number=decision_number,
                              expected_version=expected_version)
    try:
        outcome = await asyncio.to_thread(
            service.act, ctx.sessions, case_id, action, records.Actor(user.user, user.role.value),
            ctx.today(), ctx.clock(), given, ctx.case_policy, ctx.calendar,
            request.client.host if request.client else None)
        await ctx.scores.refresh()
        note = (words(lang)["pending"] if outcome.proposed
                else f"{words(lang)['done']}: {t.zh if lang == 'zh' else t.en}")
    except records.Conflict as e:
        await journal(ctx, request, audits=[record(
            request, user, f"case.{action.value}", "refused", c.subject_kind, c.subject_id,
            {"case_id": case_id, "rule": e.rule, "console": True})])
        return back(request, f"{PATH}/cases/{case_id}", conflict(lang, e), error=True)
    except records.Missing as e:
        return back(request, f"{PATH}/cases/{case_id}", missing(lang, e.fields), error=True)
    return back(request, f"{PATH}/cases/{case_id}", note)


@router.post("/cases/{case_id}/assign")
async def case_assign(case_id: RowId, request: Request, ctx: Ctx, session: SessionDep,
                      user: ConsoleUser, lang: ConsoleLang,
                      assignee: Annotated[str, Form(min_length=1, max_length=64,
                                                              pattern=FREE_TEXT)]) -> Response:
    c = records.get(session, case_id)
    if c is None:
        return message(request, lang, user, words(lang)["not_found"], f"case {case_id}", 404)
    denial = scope_denial(user, c) if allowed(user, Permission.work_cases) else \
        f"role {user.role.value} may not work_cases"
    if denial is not None:
        return await refuse(ctx, request, user, lang, "work_cases", denial, c.subject_kind,
                            c.subject_id)
    session.close()
    actor = records.Actor(user.user, user.role.value)
    await asyncio.to_thread(
        service.transact, ctx.sessions,
        lambda s: records.assign(s, case_id, assignee.replace("\x00", ""), actor, ctx.clock()),
        lambda o: service.event_audit(o, actor, request.client.host if request.client else None))
    note = f"{words(lang)['assignee']}: {assignee}"
    return back(request, f"{PATH}/cases/{case_id}", note)
