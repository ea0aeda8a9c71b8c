"""The console's forms for what the API already does: an override and a manual opening on an
entity's page; evidence files and joint-punishment measures on a case's page.

Each form goes through the API route's own functions (the same lookup, grant, scope rule,
schema and service call) and is audited under the API's action name with ``console`` in the
detail; a refusal of the grant or scope is the audited 403 page, any other refusal comes back
to the page as a message, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service.core.cases import records, service
from service.core.cases.access import case_subject, max_file_bytes, scope_denial, subject_denial
from service.core.cases.schemas import CaseOpenIn, FileIn, MeasureIn
from service.core.cases.tables import Case
from service.core.context import ServiceContext
from service.core.db.tokens import Principal
from service.core.permissions import Permission, allowed, entity_denial
from service.core.scores.overrides import find_entity, record_override
from service.core.scores.schemas import OverrideIn
from service.web.console.messages import Lang, words
from service.web.console.refusals import conflict, invalid, missing, sentence
from service.web.console.render import back, message, refuse
from service.web.console.session import PATH, ConsoleLang, ConsoleUser
from service.web.deps import Ctx, SessionDep, journal, record, release
from service.web.headers import evidence
from service.web.params import RowId

router = APIRouter(prefix=PATH, include_in_schema=False)
CONSOLE = {"console": True}
FormText = Annotated[str, Form()]  # the API's schema checks it: a refusal is a message


def _source(request: Request) -> str | None:
    return request.client.host if request.client else None


def _actor(user: Principal) -> records.Actor:
    return records.Actor(user.user, user.role.value)


@router.post("/entities/{kind}/{entity_id}/override")
async def override(kind: str, entity_id: str, request: Request, ctx: Ctx, session: SessionDep,
                   user: ConsoleUser, lang: ConsoleLang, grade: FormText = "",
                   reason: FormText = "", days: FormText = "") -> Response:
    """``POST /api/v1/scores/{kind}/{id}/override`` from the entity's page."""
    if not allowed(user, Permission.override):
        return await refuse(ctx, request, user, lang, "override",
                            f"role {user.role.value} may not override", kind, entity_id)
    found = find_entity(ctx, session, kind, entity_id)
    if found is None:
        return message(request, lang, user, words(lang)["not_found"], f"{kind} {entity_id}", 404)
    denial = entity_denial(user, kind, entity_id, found.region)
    if denial is not None:
        return await refuse(ctx, request, user, lang, "override", denial, kind, entity_id)
    here = f"{PATH}/entities/{kind}/{quote(entity_id)}"
    try:
        body = OverrideIn.model_validate({"grade": grade, "reason": reason, "days": days})
    except ValidationError as e:
        return back(request, here, invalid(lang, e), error=True)
    release(request)
    await record_override(ctx, user, record(request, user, "override", "ok", kind, entity_id),
                          body, found.latest, CONSOLE)
    return back(request, here, f"{words(lang)['override_set']}: {body.grade}")


@router.post("/entities/{kind}/{entity_id}/cases")
async def open_case(kind: str, entity_id: str, request: Request, ctx: Ctx, user: ConsoleUser,
                    lang: ConsoleLang, reason: FormText = "", conduct: FormText = "") -> Response:
    """``POST /api/v1/cases`` from the entity's page; a second opening for the same conduct
    merges into the open case, and the message says which."""
    w = words(lang)
    if not allowed(user, Permission.work_cases):
        return await refuse(ctx, request, user, lang, "work_cases",
                            f"role {user.role.value} may not work_cases", kind, entity_id)
    here = f"{PATH}/entities/{kind}/{quote(entity_id)}"
    try:
        body = CaseOpenIn.model_validate({"subject_kind": kind, "subject_id": entity_id,
                                          "conduct": conduct or None, "reason": reason})
    except ValidationError as e:
        return back(request, here, invalid(lang, e), error=True)
    subject = case_subject(ctx, body.subject_kind, body.subject_id, body.subject_name)
    if subject is None:
        return message(request, lang, user, w["not_found"], f"{kind} {entity_id}", 404)
    denial = subject_denial(user, subject)
    if denial is not None:
        return await refuse(ctx, request, user, lang, "work_cases", denial, kind, entity_id)
    try:
        outcome = await asyncio.to_thread(service.open_by_hand, ctx.sessions, subject,
                                          body.conduct, body.reason, _actor(user), ctx.clock(),
                                          _source(request), CONSOLE)
    except records.Conflict as e:  # the open case changed meanwhile: the person tries again
        return back(request, here, conflict(lang, e), error=True)
    note = (f"{w['case_merged']} #{outcome.case.id}" if outcome.merged
            else f"{w['case_opened']} #{outcome.case.id}")
    return back(request, here, note, case_id=outcome.case.id)


async def _case_for(ctx: ServiceContext, request: Request, session: Session, user: Principal,
                    lang: Lang, case_id: int, need: Permission) -> Case | Response:
    """The case, or the page refusing it: unknown (404), not granted or out of scope (403)."""
    c = records.get(session, case_id)
    if c is None:
        return message(request, lang, user, words(lang)["not_found"], f"case {case_id}", 404)
    denial = scope_denial(user, c) if allowed(user, need) else \
        f"role {user.role.value} may not {need.value}"
    if denial is not None:
        return await refuse(ctx, request, user, lang, need.value, denial, c.subject_kind,
                            c.subject_id)
    return c


@router.post("/cases/{case_id}/files")
async def upload(case_id: RowId, request: Request, ctx: Ctx, session: SessionDep,
                 user: ConsoleUser, lang: ConsoleLang,
                 file: Annotated[UploadFile | None, File()] = None) -> Response:
    """``POST /api/v1/cases/{id}/files`` from the case's page, as a multipart form: the same
    schema (a name, a media type, some content) and the size the API can carry."""
    c = await _case_for(ctx, request, session, user, lang, case_id, Permission.answer_case)
    if isinstance(c, Response):
        return c
    session.close()
    here = f"{PATH}/cases/{case_id}"
    limit = max_file_bytes(ctx.settings.api.max_body_bytes)
    content = await file.read(limit + 1) if file is not None else b""
    if len(content) > limit:
        return back(request, here, sentence(lang, [
            f"{words(lang)['too_large']} (> {limit} {words(lang)['bytes']})"]), error=True)
    try:
        body = FileIn.model_validate({
            "name": file.filename if file is not None else "",
            "media_type": (file.content_type if file is not None else None)
            or "application/octet-stream",
            "content_base64": base64.b64encode(content).decode("ascii")})
    except ValidationError as e:
        return back(request, here, invalid(lang, e), error=True)
    row = await asyncio.to_thread(
        service.attach_file, ctx.sessions, case_id, body.name, body.media_type, content,
        _actor(user), ctx.clock(), lambda f: [record(
            request, user, "answer_case", "ok", c.subject_kind, c.subject_id,
            {"case_id": case_id, "file_id": f.id, "sha256": f.sha256, **CONSOLE})])
    return back(request, here,
                f"{words(lang)['uploaded']}: {row.name} ({row.size} {words(lang)['bytes']})")


@router.get("/cases/{case_id}/files/{file_id}")
async def download(case_id: RowId, file_id: RowId, request: Request, ctx: Ctx,
                   session: SessionDep, user: ConsoleUser, lang: ConsoleLang) -> Response:
    """``GET /api/v1/cases/{id}/files/{file_id}``: the bytes kept, with their SHA-256."""
    c = await _case_for(ctx, request, session, user, lang, case_id, Permission.read_cases)
    if isinstance(c, Response):
        return c
    f = records.case_file(session, case_id, file_id)
    if f is None:
        return message(request, lang, user, words(lang)["not_found"],
                       f"file {file_id} of case {case_id}", 404)
    await journal(ctx, request, audits=[record(
        request, user, "read_cases", "ok", c.subject_kind, c.subject_id,
        {"case_id": case_id, "file_id": f.id, **CONSOLE})])
    return evidence(f.content, f.name, f.media_type, f.sha256)


@router.post("/cases/{case_id}/measures")
async def add_measure(case_id: RowId, request: Request, ctx: Ctx, session: SessionDep,
                      user: ConsoleUser, lang: ConsoleLang,
                      measure: FormText = "", agency: FormText = "", starts: FormText = "",
                      ends: FormText = "") -> Response:
    """``POST /api/v1/cases/{id}/measures`` from the case's page."""
    c = await _case_for(ctx, request, session, user, lang, case_id, Permission.work_cases)
    if isinstance(c, Response):
        return c
    session.close()
    here = f"{PATH}/cases/{case_id}"
    try:
        body = MeasureIn.model_validate({"measure": measure, "agency": agency,
                                         "starts": starts, "ends": ends or None})
    except ValidationError as e:
        return back(request, here, invalid(lang, e), error=True)
    try:
        await asyncio.to_thread(
            service.add_measure, ctx.sessions, case_id, body.measure, body.agency, body.starts,
            body.ends, _actor(user), ctx.clock(), lambda m: [record(
                request, user, "case.add_measure", "ok", c.subject_kind, c.subject_id,
                {"case_id": case_id, "measure": m.measure, **CONSOLE})])
    except records.Conflict as e:
        await journal(ctx, request, audits=[record(
            request, user, "case.add_measure", "refused", c.subject_kind, c.subject_id,
            {"case_id": case_id, "rule": e.rule, **CONSOLE})])
        return back(request, here, conflict(lang, e), error=True)
    except records.Missing as e:
        return back(request, here, missing(lang, e.fields), error=True)
    w = words(lang)
    return back(request, here, f"{w['measure_added']}: {w['measure_' + body.measure]}")
