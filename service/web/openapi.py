"""The OpenAPI schema tells what the service answers on failure, not FastAPI's defaults.

:mod:`service.web.errors` answers a validation failure ``{"detail": [{field, rule, message}],
"message"}`` and every other refusal ``{"detail": ...}``; FastAPI's generated schema promises
``{"detail": [{loc, msg, type}]}`` for a 422 and documents no other failure, so a client
generated from the schema, and a schema-conformance test, would be told wrong. This module is
the one place that corrects it: it rewrites the ``HTTPValidationError`` component and declares
the common failures on every operation, leaving a route's own declarations alone.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

REF = "#/components/schemas/"
PROBLEM = {
    "title": "Problem", "type": "object", "required": ["field", "rule", "message"],
    "description": "one reason a request was refused / 一项校验失败",
    "properties": {
        "field": {"type": "string", "description": "where: body.x, query.y, path.z"},
        "rule": {"type": "string", "description": "which rule failed, e.g. "
                                                  "string_pattern_mismatch"},
        "message": {"type": "string"}}}
VALIDATION = {
    "title": "HTTPValidationError", "type": "object", "required": ["detail"],
    "description": "422: every problem of the request, each naming its field and rule",
    "properties": {"detail": {"type": "array", "items": {"$ref": f"{REF}Problem"}},
                   "message": {"type": "string"}}}
ERROR = {
    "title": "Error", "type": "object", "required": ["detail"],
    "description": "a refusal: ``detail`` says why (a text, or an object naming the rule)",
    "properties": {"detail": {}}}
# every failure a request can meet outside its route's own logic: authentication, grants,
# unknown ids and routes, conflicts, size and media limits, rate limits, readiness, a bug
FAILURES = {
    "400": "bad request", "401": "no valid token / 未认证", "403": "refused / 无权限",
    "404": "not found / 不存在", "405": "method not allowed", "409": "conflict / 冲突",
    "413": "body too large / 请求体过大", "415": "unsupported media type",
    "429": "too many requests / 请求过多", "500": "internal error, logged / 服务内部错误",
    "503": "not ready / 服务尚未就绪",
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"{REF}{schema}"}}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the service's error shapes (changed in place and returned)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("ValidationError", None)  # FastAPI's {loc, msg, type}: never answered
    components.update(Problem=PROBLEM, HTTPValidationError=VALIDATION, Error=ERROR)
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            responses["422"] = _json("HTTPValidationError", "validation error / 请求参数校验失败")
            for code, description in FAILURES.items():
                responses.setdefault(code, _json("Error", description))
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``, ``/docs``) the corrected schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
