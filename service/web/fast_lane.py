"""A fast lane for the two hot requests: a score lookup and a contract check by a known caller.

FastAPI spends about 0.2 ms of CPU on a lookup before the route runs (route matching over
every route, then five nested dependency solves) and about 0.6 ms on a check (the same, plus
parsing, validating and re-validating the answer against ``response_model``): more than the
lookup itself, twice the check's model. This ASGI middleware answers the common case itself —
a cached token whose role holds the permission, no query string, a JSON body that validates,
an entity in the read model inside the caller's scope — with the same checks the routes make
(:func:`service.core.permissions.allowed`, :func:`service.core.permissions.entity_denial`), the
same function behind
the check route (:func:`service.core.contracts.check.check_contracts`), the same audit record
committed before the answer, and the same JSON. Everything else falls through untouched to
FastAPI's routes, which stay the documented endpoints and the one place errors are made: no
token or an unknown one (401), a refusal (403, audited there; another office's contract
too), a body that fails validation
(422), an unknown entity (404), a service not ready (503). Falling through has no side effect,
so the route answers as if the lane did not exist.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.contracts.check import NotReady, check_contracts
from service.core.contracts.schemas import ContractIn
from service.core.db.tokens import Principal
from service.core.inputs import ENTITY_ID
from service.core.permissions import Permission, allowed, entity_denial, office_denial
from service.web import errors
from service.web.deps import journal, record

KINDS = {"institutions": "institution", "brokers": "broker"}
LOOKUP = re.compile(rf"/api/v1/(institutions|brokers)/({ENTITY_ID[1:-1]})/score")
CHECK = "/api/v1/contracts/check"
JSON = b"application/json"


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, as FastAPI's HTTPBearer reads it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token if scheme.lower() == "bearer" and token else None
    return None


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return value
    return None


class FastLane:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # the FastAPI route of each hot path, learnt from the first request that fell
        # through: a lane answer carries it in the scope, so the latency metric labels it alike
        self.routes: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "GET" and (match := LOOKUP.fullmatch(scope["path"])):
            if not await self._lookup(scope, send, *match.groups()):
                await self._through(match.group(1), scope, receive, send)
        elif scope["method"] == "POST" and scope["path"] == CHECK:
            await self._check(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _through(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope.get("route") is not None:
            self.routes.setdefault(name, scope["route"])

    def _caller(self, scope: Scope, name: str, permission: Permission) -> Principal | None:
        """The cached principal of the request if it holds ``permission`` and the route is
        known; None: let FastAPI decide."""
        if name not in self.routes:
            return None
        token = bearer_token(scope)
        principal = scope["app"].state.ctx.tokens.get(token) if token else None
        if principal is None or not allowed(principal, permission):
            return None
        return principal

    async def _lookup(self, scope: Scope, send: Send, plural: str, entity_id: str) -> bool:
        """Answer the lookup and return True, or return False having changed nothing."""
        principal = self._caller(scope, plural, Permission.read_score)
        if principal is None:
            return False
        ctx, kind = scope["app"].state.ctx, KINDS[plural]
        entry = ctx.scores.current((kind, entity_id))
        if entry is None or entity_denial(principal, kind, entity_id, entry.region):
            return False
        scope["route"] = self.routes[plural]
        request = Request(scope)
        try:
            await journal(ctx, request, audits=[record(
                request, principal, "read_score", "ok", kind, entity_id,
                {"score_id": entry.score_id})])
        except Exception as e:  # as the route's unexpected-error handler answers
            await _send(scope, send, await errors.unexpected_error(request, e))
            return True
        ctx.metrics.scores_served.labels(kind).inc()
        await _send(scope, send, Response(entry.body, media_type="application/json"))
        return True

    async def _check(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = scope["app"].state.ctx
        principal = self._caller(scope, "check", Permission.check_contract)
        if (principal is None or _header(scope, b"content-type") != JSON
                or ctx.holder.current is None or ctx.checker is None):
            await self._through("check", scope, receive, send)
            return
        body, replay = await _read(receive)
        try:  # as FastAPI reads a JSON body: json.loads, then the model in Python mode
            contract = ContractIn.model_validate(json.loads(body))
        except (ValueError, RecursionError):  # not JSON, nested too deep, invalid: the route
            # answers it (400 or 422), so both paths refuse alike
            await self._through("check", scope, replay, send)
            return
        if office_denial(principal, [contract.office_id]):  # the route answers 403, audited
            await self._through("check", scope, replay, send)
            return
        scope["route"] = self.routes["check"]
        request = Request(scope, replay)
        try:
            out = (await check_contracts(
                ctx, principal, record(request, principal, "check_contract", "ok"), [contract],
                True))[0]
        except NotReady as e:
            response = await errors.http_error(request, errors.not_ready(e))
        except Exception as e:
            response = await errors.unexpected_error(request, e)
        else:
            response = Response(out.__pydantic_serializer__.to_json(out),
                                media_type="application/json")
        await _send(scope, send, response)


async def _read(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it out again (for a fall-through)."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return body, replay


async def _send(scope: Scope, send: Send, response: Response) -> None:
    async def nothing() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, nothing, send)
