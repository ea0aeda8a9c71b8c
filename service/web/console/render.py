"""Pages from templates, in the reader's language; the language asked for in the query is
remembered in a cookie so every later page keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from features.standard.enums import CONDUCT_KIND, REGION
from models.gate import GateDecision
from models.rules.tier import Tier
from service.core.cases.enums import SEVERITY_LABELS, STATE_LABELS
from service.core.cases.machine import BY_ACTION, Action
from service.core.db.tokens import Principal
from service.core.paging import Page
from service.web.console.flash import FLASH_COOKIE, Flash, issue, take
from service.web.console.messages import Lang, words
from service.web.console.navigation import links
from service.web.console.refusals import LIMITS
from service.web.console.session import LANG_COOKIE, PATH
from service.web.deps import Ctx, journal, record

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def tier_names(lang: Lang) -> dict[str, str]:
    """Most severe first, the order the pages list tiers in."""
    return {t.value: t.zh if lang == "zh" else t.value for t in Tier}


def state_labels(lang: Lang) -> dict[str, str]:
    return {s.value: v[0 if lang == "zh" else 1] for s, v in STATE_LABELS.items()}


def regions(lang: Lang) -> list[tuple[str, str]]:
    return [(c, REGION.label(c, lang)) for c in REGION.codes]


def conducts(lang: Lang) -> list[tuple[str, str]]:
    return [(c, CONDUCT_KIND.label(c, lang)) for c in CONDUCT_KIND.codes]


def severities(lang: Lang) -> list[tuple[str, str]]:
    return [(s.value, v[0 if lang == "zh" else 1]) for s, v in SEVERITY_LABELS.items()]


def event_label(action: str, lang: Lang) -> str:
    """A case event's action in the reader's language: a transition by its own label, a
    proposal awaiting four eyes by what it proposes, the rest (opening, assignment, files,
    measures) from the words table."""
    w = words(lang)
    if action.startswith("propose:"):
        return f"{w['event_propose']}: {event_label(action.split(':', 1)[1], lang)}"
    if action in Action.__members__:
        t = BY_ACTION[Action(action)]
        return t.zh if lang == "zh" else t.en
    return w.get(f"event_{action}", action)


def page(request: Request, template: str, lang: Lang, user: Principal | None, title: str,
         status_code: int = 200, **values: Any) -> HTMLResponse:
    """A page; unless ``values`` brings its own ``flash``, with the banner the last form's
    POST issued to this session (shown once: its cookie is deleted)."""
    own = "flash" in values
    banner = None if own else take(request)
    if banner is not None:
        values |= {"flash": banner.text, "flash_error": banner.error,
                   "flash_case_id": banner.case_id}
    response = TEMPLATES.TemplateResponse(request, template, {
        "lang": lang, "w": words(lang), "user": user, "title": title,
        "csrf": getattr(request.state, "csrf", ""),
        "tier_names": tier_names(lang), "state_labels": state_labels(lang), "limits": LIMITS,
        "nav": links(user), **values},
        status_code=status_code)
    if not own and FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=PATH)
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, asked, path=PATH, samesite="strict",
                            max_age=365 * 86400,
                            secure=request.app.state.ctx.settings.security.console_https)
    return response


def message(request: Request, lang: Lang, user: Principal | None, heading: str, text: str,
            status_code: int) -> HTMLResponse:
    return page(request, "message.html", lang, user, heading, status_code,
                heading=heading, message=text)


def gate_failures(gate: GateDecision, lang: Lang) -> list[str]:
    """The review gate's failed checks in the reader's language (the figures' names and rules
    are the gate's own notation)."""
    violates = words(lang)["violates"]
    return [f"{c.name} = {c.value:.4f} {violates} {c.rule}" for c in gate.checks if not c.passed]


@dataclass(frozen=True)
class Pager:
    """The links under a console list (``pager.html``): the next page, and back to the first
    once past it (a keyset page knows what follows it, not what came before)."""

    next_url: str | None
    first_url: str | None


def pager(request: Request, found: Page[Any], **fixed: object) -> Pager:
    """Links to this list's pages with the request's filters and ``fixed``: values the links
    must carry even where the request left them to a default that may move meanwhile (the
    newest year)."""
    query = {k: v for k, v in request.query_params.items() if k != "cursor"}
    query |= {k: str(v) for k, v in fixed.items()}

    def link(**cursor: str) -> str:
        return f"{request.url.path}?{urlencode(query | cursor)}"

    return Pager(link(cursor=found.next_cursor) if found.next_cursor else None,
                 link() if "cursor" in request.query_params else None)


def back(request: Request, path: str, note: str, error: bool = False,
         case_id: int | None = None) -> RedirectResponse:
    """After a form: back to ``path`` (see other), with what the form did in a banner only
    this server can issue (:mod:`service.web.console.flash`), never in the address."""
    answer = RedirectResponse(path, status_code=303)
    issue(request, answer, Flash(note, error, case_id))
    return answer


async def refuse(ctx: Ctx, request: Request, user: Principal, lang: str, action: str,
                  reason: str, kind: str | None = None, entity_id: str | None = None
                  ) -> HTMLResponse:
    """A 403 page in the reader's language, the refusal audited first."""
    await journal(ctx, request, audits=[record(request, user, action, "denied", kind, entity_id,
                                               {"reason": reason})])
    w = words("en" if lang == "en" else "zh")
    return message(request, "en" if lang == "en" else "zh", user, w["forbidden"], reason, 403)
