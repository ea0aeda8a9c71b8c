"""The console mounted on the service: its pages, its local static files (no CDN), the
redirect to sign-in for a browser without a valid session, the 403 page of a refused
cross-site POST, and the 404 page of an unknown address outside the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.web.console import (
    not_found,
    views,
    views_actions,
    views_assessments,
    views_cases,
    views_models,
)
from service.web.console.messages import words
from service.web.console.render import message
from service.web.console.session import PATH, LoginRequired, Refused, lang_of, to_login


def refused(request: Request, exc: Exception) -> HTMLResponse:
    """The page of a POST refused by the session's checks (audited before it was raised)."""
    assert isinstance(exc, Refused)
    lang = lang_of(request)
    return message(request, lang, exc.user, words(lang)["forbidden"], exc.reason, 403)


def mount_console(app: FastAPI) -> None:
    app.include_router(views.router)
    app.include_router(views_cases.router)
    app.include_router(views_actions.router)
    app.include_router(views_assessments.router)
    app.include_router(views_models.router)
    app.mount(f"{PATH}/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="console-static")
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(Refused, refused)
    # after errors.install: this handler answers 404s outside /api/ as a page, the rest as JSON
    app.add_exception_handler(StarletteHTTPException, not_found.http_error)
