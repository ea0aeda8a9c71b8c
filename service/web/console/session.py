"""Who is at the console, and in which language.

The console signs in with the same API token (kept in an HttpOnly, SameSite=Strict cookie
scoped to ``/console``), so the same roles, region limits, revocation and audit apply to a
person clicking as to a program calling. Forms post only from the console's own pages:
SameSite=Strict keeps another site's form from carrying the cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from service.core.db.tokens import Principal
from service.web.console.messages import Lang
from service.web.deps import Ctx, principal_of

COOKIE = "tc_console"
LANG_COOKIE = "tc_lang"
PATH = "/console"


class LoginRequired(Exception):
    """No valid token: the handler sends the browser to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def console_user(request: Request, ctx: Ctx) -> Principal:
    principal = principal_of(ctx, request.cookies.get(COOKIE))
    if principal is None:
        raise LoginRequired(request.url.path)
    return principal


def lang_of(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if asked == "en" else "zh"


ConsoleUser = Annotated[Principal, Depends(console_user)]
ConsoleLang = Annotated[Lang, Depends(lang_of)]


def to_login(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"{PATH}/login?next={exc.next_path}", status_code=303)
