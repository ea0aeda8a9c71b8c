"""The console mounted on the service: its pages, its local static files (no CDN), and the
redirect to sign-in for a browser without a valid token."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.web.console import views, views_actions, views_assessments, views_cases, views_models
from service.web.console.session import PATH, LoginRequired, to_login


def mount_console(app: FastAPI) -> None:
    app.include_router(views.router)
    app.include_router(views_cases.router)
    app.include_router(views_actions.router)
    app.include_router(views_assessments.router)
    app.include_router(views_models.router)
    app.mount(f"{PATH}/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="console-static")
    app.add_exception_handler(LoginRequired, to_login)
