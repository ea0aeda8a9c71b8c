"""Pages from templates, in the reader's language; the language asked for in the query is
remembered in a cookie so every later page keeps it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from features.standard.enums import CONDUCT_KIND, REGION
from service.cases.enums import STATE_LABELS
from service.console.messages import Lang, words
from service.console.session import LANG_COOKIE, PATH
from service.db.tokens import Principal

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TIERS = {"red": ("红色", "red"), "orange": ("橙色", "orange"), "yellow": ("黄色", "yellow"),
         "blue": ("蓝色", "blue")}


def tier_names(lang: Lang) -> dict[str, str]:
    return {k: v[0 if lang == "zh" else 1] for k, v in TIERS.items()}


def state_labels(lang: Lang) -> dict[str, str]:
    return {s.value: v[0 if lang == "zh" else 1] for s, v in STATE_LABELS.items()}


def regions(lang: Lang) -> list[tuple[str, str]]:
    return [(c, REGION.label(c, lang)) for c in REGION.codes]


def conducts(lang: Lang) -> list[tuple[str, str]]:
    return [(c, CONDUCT_KIND.label(c, lang)) for c in CONDUCT_KIND.codes]


def page(request: Request, template: str, lang: Lang, user: Principal | None, title: str,
         status_code: int = 200, **values: Any) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(request, template, {
        "lang": lang, "w": words(lang), "user": user, "title": title,
        "tier_names": tier_names(lang), "state_labels": state_labels(lang), **values},
        status_code=status_code)
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, asked, path=PATH, samesite="strict",
                            max_age=365 * 86400)
    return response


def message(request: Request, lang: Lang, user: Principal | None, heading: str, text: str,
            status_code: int) -> HTMLResponse:
    return page(request, "message.html", lang, user, heading, status_code,
                heading=heading, message=text)
