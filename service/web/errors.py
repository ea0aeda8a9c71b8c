"""Every failure as a JSON answer a client can act on, never a traceback.

Validation errors (a list's bad cursor among them) are 422 with one entry per problem naming
the field and the rule; unknown ids 404; bodies over the limit 413 (refused by
:class:`BodyLimit` before they are read whole); anything unforeseen is logged and answered
500 without internals, and the schema test treats any 500 as a bug. A refusal (404, 409, 422)
of a request whose caller was authenticated is audited here unless the route already audited
it, so probing for ids or feeding malformed bodies leaves a trace under the caller's name.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.paging import BadCursor
from service.web.deps import journal, record

log = logging.getLogger("techcredit.service")
AUDITED_REFUSALS = {404: "not_found", 409: "refused", 422: "invalid"}


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


async def audit_refusal(request: Request, code: int, detail: Any) -> None:
    """The refusal in the audit log under the caller's name and the action asked for, if the
    request had an authenticated caller and nothing audited it yet."""
    principal = getattr(request.state, "principal", None)
    outcome = AUDITED_REFUSALS.get(code)
    if principal is None or outcome is None or getattr(request.state, "audited", False):
        return
    await journal(request.app.state.ctx, request, audits=[record(
        request, principal, getattr(request.state, "action", "authenticate"), outcome,
        detail={"status": code, "reason": _short(detail)})])


def _short(detail: Any) -> Any:
    """The refusal's words for the audit log, at most a few hundred characters."""
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False,
                                                            default=str)
    return text[:500]


async def _invalid(request: Request, problems: list[dict[str, str]]) -> JSONResponse:
    await audit_refusal(request, 422, [{"field": p["field"], "rule": p["rule"]}
                                       for p in problems])
    return JSONResponse(status_code=422, content={
        "detail": problems, "message": "request failed validation / 请求参数校验失败"})


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return await _invalid(request, [{"field": _field(e.get("loc", ())),
                                     "rule": e.get("type", "invalid"),
                                     "message": e.get("msg", "")} for e in exc.errors()])


async def bad_cursor(request: Request, exc: Exception) -> JSONResponse:
    """A list's cursor is read where the list's order is known, in the core: refused there,
    answered here as the schema's refusals are."""
    return await _invalid(request, [{"field": "query.cursor", "rule": "cursor",
                                     "message": str(exc)}])


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    await audit_refusal(request, exc.status_code, exc.detail)
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                        headers=getattr(exc, "headers", None))


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(status_code=500, content={
        "detail": "internal error, logged / 服务内部错误,已记录"})


def not_ready(e: Exception) -> StarletteHTTPException:
    """The core is still loading what this request needs: 503, with when to ask again."""
    return StarletteHTTPException(503, f"{e} / 服务尚未就绪", headers={"Retry-After": "5"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(BadCursor, bad_cursor)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)


class BodyLimit:
    """ASGI middleware: 413 for a body longer than ``limit`` bytes, by its declared length or
    by counting what arrives (a chunked body declares none)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        # Read the body first (at most limit + 1 bytes are held), then replay it: refusing
        # from inside the app's own read would surface as its parse error, not a 413.
        chunks: list[bytes] = []
        seen, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            more = message.get("more_body", False)
            if seen > self.limit:
                await self._refuse(send)
                return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over {self.limit} bytes / 请求体过大"}
                          ).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
