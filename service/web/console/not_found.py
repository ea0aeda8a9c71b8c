"""Unknown addresses outside the API as a page a person can read: a browser that mistypes a
console address (or follows a stale link) gets the console's 404 page in its language with a
way home, not the API's ``{"detail": "Not Found"}``. Programs keep the JSON: any path under
``/api/`` and every error other than 404 go to the service's JSON handler."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.web import errors
from service.web.console.messages import words
from service.web.console.render import page
from service.web.console.session import lang_of

API_PREFIX = "/api/"


def wants_page(request: Request, status_code: int) -> bool:
    """A 404 of a path no program asks for: everything but ``/api/…``."""
    path = request.url.path
    return status_code == 404 and not (path.startswith(API_PREFIX) or path == "/api")


async def http_error(request: Request, exc: Exception) -> Response:
    """The console's 404 page, or the service's JSON answer for everything else."""
    assert isinstance(exc, StarletteHTTPException)
    if not wants_page(request, exc.status_code):
        return await errors.http_error(request, exc)
    lang = lang_of(request)
    w = words(lang)
    return page(request, "not_found.html", lang, getattr(request.state, "principal", None),
                w["not_found"], 404, path=request.url.path)
