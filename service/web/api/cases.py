"""``/cases``: dishonesty cases with due process, and ``/dishonesty-list`` for other agencies.

A case moves only by the transition table (``service.core.cases.machine``): a forbidden move is a
409 naming the rule, a four-eyes step waits for a second person, and every step is committed
with its event and audit entry in one transaction (``service.core.cases.service``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy.orm import Session

from service.core.cases import lists, records, service
from service.core.cases.access import case_subject, scope_denial, subject_denial
from service.core.cases.enums import STATE_LABELS, CaseState
from service.core.cases.machine import BY_ACTION, TRANSITIONS, Action, Party, available
from service.core.cases.schemas import (
    ActionIn,
    ActionOut,
    AssignIn,
    CaseDetail,
    CaseOpenIn,
    CaseOut,
    EventOut,
    FileIn,
    FileOut,
    MeasureIn,
    MeasureOut,
    QueueItemOut,
    TransitionOut,
)
from service.core.cases.tables import Case
from service.core.context import ServiceContext
from service.core.db.tokens import Principal
from service.core.db.types import Role
from service.core.inputs import FREE_TEXT
from service.core.paging import PageOut
from service.core.permissions import Permission, region_filter
from service.web.deps import (
    Caller,
    CaseReader,
    CaseSubject,
    CaseWorker,
    Ctx,
    SessionDep,
    deny,
    ensure,
    journal,
)
from service.web.deps import record as audit_record
from service.web.headers import evidence
from service.web.paging import Paged
from service.web.params import RowId

router = APIRouter(tags=["cases 失信案件"])


def case_out(ctx: ServiceContext, c: Case) -> CaseOut:
    state = CaseState(c.state)
    return CaseOut(
        id=c.id, version=c.version, subject_kind=c.subject_kind, subject_id=c.subject_id,
        subject_name=c.subject_name, region=c.region, conduct=c.conduct, severity=c.severity,
        state=c.state, state_zh=STATE_LABELS[state][0], source=c.source, assignee=c.assignee,
        opened_by=c.opened_by, opened_at=c.opened_at, model_name=c.model_name,
        model_version=c.model_version, score_points=c.score_points, evidence=c.evidence,
        basis=c.basis, decision_number=c.decision_number, decided_on=c.decided_on,
        notice_on=c.notice_on, objection_due=c.objection_due, answer_due=c.answer_due,
        listed_on=c.listed_on, repair_from=c.repair_from, publication_ends=c.publication_ends,
        published=c.published, repair_due=c.repair_due,
        deadline_provisional=c.deadline_provisional, pending_action=c.pending_action,
        pending_by=c.pending_by,
        actions=[a.value for a in available(records.facts(c), ctx.today())])


async def _case(ctx: Ctx, session: SessionDep, request: Request, principal: Principal,
                case_id: int, action: str) -> Case:
    c = records.get(session, case_id)
    if c is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id} / 无此案件")
    reason = scope_denial(principal, c)
    if reason is not None:
        raise await deny(ctx, request, principal, action, status.HTTP_403_FORBIDDEN, reason,
                         c.subject_kind, c.subject_id)
    return c


def _conflict(e: records.Conflict) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"rule": e.rule, "message": str(e)})


def _missing(e: records.Missing) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
        {"field": f"body.{f.split(':')[0]}", "rule": "required", "message": f}
        for f in e.fields])


def _actor(principal: Principal) -> records.Actor:
    return records.Actor(principal.user, principal.role.value)


def _source(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/cases/transitions", response_model=list[TransitionOut])
async def transitions(principal: CaseReader) -> list[TransitionOut]:
    """The state machine as data: which action moves a case from where to where, who takes
    it, and which steps need a second person."""
    return [TransitionOut(action=t.action.value, sources=sorted(s.value for s in t.sources),
                          target=t.target.value, party=t.party.value, four_eyes=t.four_eyes,
                          requires=list(t.requires), zh=t.zh, en=t.en) for t in TRANSITIONS]


@router.get("/cases", response_model=PageOut[CaseOut])
async def list_cases(principal: CaseReader, ctx: Ctx, session: SessionDep, request: Request,
                     paged: Paged, state: CaseState | None = None,
                     subject_kind: Literal["institution", "broker", "party"] | None = None,
                     subject_id: Annotated[str | None, Query(max_length=32, pattern=FREE_TEXT)
                                           ] = None) -> PageOut[CaseOut]:
    """Cases, newest first; an institution sees only its own, a regional regulator only its
    regions."""
    own = (principal.institution_id or "") if principal.role == Role.institution else None
    found = lists.cases(session, lists.CaseFilter(
        state.value if state else None, subject_kind, subject_id, region_filter(principal),
        own), paged)
    out = PageOut[CaseOut].of(found, lambda c: case_out(ctx, c))
    await journal(ctx, request, audits=[audit_record(request, principal, "read_cases", "ok",
                                                     detail={"rows": len(out.items)})])
    return out


@router.get("/cases/queue", response_model=PageOut[QueueItemOut])
async def case_queue(principal: CaseWorker, ctx: Ctx, session: SessionDep, request: Request,
                     paged: Paged, overdue: bool = False, mine: bool = False
                     ) -> PageOut[QueueItemOut]:
    """Open cases, most urgent first: overdue answers, cases ready for listing, deadlines."""
    found = lists.queue(session, ctx.today(), lists.QueueFilter(
        region_filter(principal), principal.user if mine else None, overdue), paged)
    out = PageOut[QueueItemOut].of(found, lambda i: QueueItemOut(**asdict(i)))
    await journal(ctx, request, audits=[audit_record(request, principal, "read_cases", "ok",
                                                     detail={"queue": len(out.items)})])
    return out


@router.post("/cases", response_model=ActionOut, status_code=status.HTTP_201_CREATED)
async def open_case(body: CaseOpenIn, principal: CaseWorker, ctx: Ctx, request: Request,
                    response: Response) -> ActionOut:
    """Open a case by hand; an open case of the same subject and conduct takes it in as
    evidence instead (200, ``merged``)."""
    subject = case_subject(ctx, body.subject_kind, body.subject_id, body.subject_name)
    if subject is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no {body.subject_kind} {body.subject_id} / 无此主体")
    denial = subject_denial(principal, subject)
    if denial is not None:
        raise await deny(ctx, request, principal, "work_cases", status.HTTP_403_FORBIDDEN,
                         denial, body.subject_kind, body.subject_id)
    outcome = await asyncio.to_thread(service.open_by_hand, ctx.sessions, subject, body.conduct,
                                      body.reason, _actor(principal), ctx.clock(),
                                      _source(request))
    if outcome.merged:
        response.status_code = status.HTTP_200_OK
    return ActionOut(case=case_out(ctx, outcome.case), proposed=False, merged=outcome.merged)


@router.get("/cases/{case_id}", response_model=CaseDetail)
async def get_case(case_id: RowId, principal: CaseReader, ctx: Ctx, session: SessionDep,
                   request: Request) -> CaseDetail:
    """A case with every event (who, when, why, evidence, model version), its files and its
    joint-punishment measures, and what may be done next."""
    c = await _case(ctx, session, request, principal, case_id, "read_cases")
    detail = CaseDetail(
        **case_out(ctx, c).model_dump(),
        events=[EventOut.model_validate(e, from_attributes=True)
                for e in records.events(session, c.id)],
        files=[FileOut.model_validate(f, from_attributes=True)
               for f in records.files(session, c.id)],
        measures=[MeasureOut.model_validate(m, from_attributes=True)
                  for m in records.measures(session, c.id)])
    await journal(ctx, request, audits=[audit_record(request, principal, "read_cases", "ok",
                                                     c.subject_kind, c.subject_id,
                                                     {"case_id": c.id})])
    return detail


@router.post("/cases/{case_id}/actions/{action}", response_model=ActionOut)
async def take_action(case_id: RowId, action: Action, body: ActionIn, principal: Caller,
                      ctx: Ctx, session: SessionDep, request: Request,
                      response: Response) -> ActionOut:
    """Move a case. The transition table decides whether the move is allowed now and who
    may make it; a four-eyes step answers 202 until a second person makes the same call."""
    t = BY_ACTION[action]
    if t.party == Party.system:
        raise HTTPException(status.HTTP_409_CONFLICT, {
            "rule": "system_only", "message": f"{action.value} is taken by the system / 系统执行"})
    permission = Permission.answer_case if t.party == Party.subject else Permission.work_cases
    await ensure(ctx, request, principal, permission)
    c = await _case(ctx, session, request, principal, case_id, permission.value)
    session.close()
    given = records.ActionInput(body.reason, body.conduct, body.severity, body.basis,
                              body.decision_number, body.remediation, body.commitment,
                              tuple(body.evidence_files), body.expected_version)
    try:
        outcome = await asyncio.to_thread(
            service.act, ctx.sessions, c.id, action, _actor(principal), ctx.today(),
            ctx.clock(), given, ctx.case_policy, ctx.calendar, _source(request))
    except records.Conflict as e:
        await journal(ctx, request, audits=[audit_record(
            request, principal, f"case.{action.value}", "refused", c.subject_kind,
            c.subject_id, {"case_id": c.id, "rule": e.rule})])
        raise _conflict(e) from None
    except records.Missing as e:
        raise _missing(e) from None
    if outcome.proposed:
        response.status_code = status.HTTP_202_ACCEPTED
    await ctx.scores.refresh()  # a listing or a repair shows beside the score at once
    return ActionOut(case=case_out(ctx, outcome.case), proposed=outcome.proposed)


@router.post("/cases/{case_id}/assign", response_model=CaseOut)
async def assign(case_id: RowId, body: AssignIn, principal: CaseWorker, ctx: Ctx,
                 session: SessionDep, request: Request) -> CaseOut:
    c = await _case(ctx, session, request, principal, case_id, "work_cases")
    session.close()
    actor = _actor(principal)

    def work(s: Session) -> records.Outcome:
        return records.assign(s, c.id, body.assignee, actor, ctx.clock())

    outcome = await asyncio.to_thread(service.transact, ctx.sessions, work,
                                      lambda o: service.event_audit(o, actor, _source(request)))
    return case_out(ctx, outcome.case)


@router.post("/cases/{case_id}/files", response_model=FileOut,
             status_code=status.HTTP_201_CREATED)
async def upload(case_id: RowId, body: FileIn, principal: CaseSubject, ctx: Ctx,
                 session: SessionDep, request: Request) -> FileOut:
    """Attach evidence; it is kept with its SHA-256. The subject may attach its own (e.g.
    remediation evidence for a repair application)."""
    c = await _case(ctx, session, request, principal, case_id, "answer_case")
    session.close()
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "field": "body.content_base64", "rule": "base64",
            "message": "not valid base64"}]) from None
    row = await asyncio.to_thread(
        service.attach_file, ctx.sessions, c.id, body.name, body.media_type, content,
        _actor(principal), ctx.clock(), lambda f: [audit_record(
            request, principal, "answer_case", "ok", c.subject_kind, c.subject_id,
            {"case_id": c.id, "file_id": f.id, "sha256": f.sha256})])
    return FileOut.model_validate(row, from_attributes=True)


@router.get("/cases/{case_id}/files/{file_id}")
async def download(case_id: RowId, file_id: RowId, principal: CaseReader, ctx: Ctx,
                   session: SessionDep, request: Request) -> Response:
    c = await _case(ctx, session, request, principal, case_id, "read_cases")
    f = records.case_file(session, c.id, file_id)
    if f is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no file {file_id} on case {case_id}")
    await journal(ctx, request, audits=[audit_record(
        request, principal, "read_cases", "ok", c.subject_kind, c.subject_id,
        {"case_id": c.id, "file_id": f.id})])
    return evidence(f.content, f.name, f.media_type, f.sha256)


@router.post("/cases/{case_id}/measures", response_model=MeasureOut,
             status_code=status.HTTP_201_CREATED)
async def add_measure(case_id: RowId, body: MeasureIn, principal: CaseWorker, ctx: Ctx,
                      session: SessionDep, request: Request) -> MeasureOut:
    """A joint-punishment measure another agency applies while the subject is listed."""
    c = await _case(ctx, session, request, principal, case_id, "work_cases")
    session.close()
    try:
        row = await asyncio.to_thread(
            service.add_measure, ctx.sessions, c.id, body.measure, body.agency, body.starts,
            body.ends, _actor(principal), ctx.clock(), lambda m: [audit_record(
                request, principal, "case.add_measure", "ok", c.subject_kind, c.subject_id,
                {"case_id": c.id, "measure": m.measure})])
    except records.Conflict as e:
        await journal(ctx, request, audits=[audit_record(
            request, principal, "case.add_measure", "refused", c.subject_kind, c.subject_id,
            {"case_id": c.id, "rule": e.rule})])
        raise _conflict(e) from None
    except records.Missing as e:
        raise _missing(e) from None
    return MeasureOut.model_validate(row, from_attributes=True)


@router.post("/cases/sweep", response_model=list[CaseOut])
async def sweep(principal: CaseWorker, ctx: Ctx, request: Request) -> list[CaseOut]:
    """End publication of every case at its maximum period now (the daily flow does it too)."""
    outcomes = await asyncio.to_thread(service.sweep, ctx.sessions, ctx.today(), ctx.clock(),
                                       ctx.case_policy, ctx.calendar)
    await journal(ctx, request, audits=[audit_record(
        request, principal, "case.sweep", "ok", detail={"removed": [o.case.id for o in outcomes]})])
    await ctx.scores.refresh()
    return [case_out(ctx, o.case) for o in outcomes]


@router.get("/dishonesty-list", response_model=PageOut[lists.ListEntry],
            responses={200: {"content": {"text/csv": {}},
                             "description": "the page as JSON, or as CSV with the next page "
                                            "in a `Link: <…>; rel=\"next\"` header"}})
async def dishonesty_list(principal: CaseReader, ctx: Ctx, session: SessionDep,
                          request: Request, paged: Paged,
                          format: Literal["json", "csv"] = "json"
                          ) -> Response | PageOut[lists.ListEntry]:
    """The published dishonesty list (失信名单) for other agencies: name, code, conduct, basis,
    decision number and date, severity, publication period, status."""
    found = lists.dishonesty_page(session, ctx.today(), paged)
    await journal(ctx, request, audits=[audit_record(request, principal, "export_list", "ok",
                                                     detail={"rows": len(found.items),
                                                             "format": format})])
    if format == "csv":
        following = found.next_cursor and request.url.include_query_params(
            cursor=found.next_cursor)
        return Response(lists.to_csv(found.items), media_type="text/csv; charset=utf-8",
                        headers={"Link": f'<{following}>; rel="next"'} if following else None)
    return PageOut[lists.ListEntry](items=found.items, next_cursor=found.next_cursor,
                                    total=found.total)
