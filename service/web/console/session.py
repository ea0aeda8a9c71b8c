"""Who is at the console, and in which language.

A person signs in with their API token, so the same roles, region limits, revocation and audit
apply to a person clicking as to a program calling; but the browser never keeps the token. It
gets a random session id (an HttpOnly, SameSite=Strict cookie scoped to ``/console``, Secure
when ``TECHCREDIT_CONSOLE_HTTPS`` says the console is served over HTTPS) naming a server-side
session (:mod:`service.core.db.console_sessions`) that ends on sign-out, on expiry, and with
its token.

SameSite alone does not stop a forged form: it ignores ports, so any other application on the
same host (Prefect's UI next door) is "same site". So every console POST must also come from a
page of this origin (``Origin``, else ``Referer``: same scheme, host and port as the request)
and carry the session's form token (a hidden ``csrf`` field in every form). A refusal is
audited and answered 403; a page asked for without a valid session is audited and sent to
sign in.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from service.core.context import ServiceContext
from service.core.db.console_sessions import form_token, form_token_ok, session_principal
from service.core.db.tokens import Principal
from service.web.console.messages import Lang
from service.web.deps import Ctx, guard_of, journal, record
from service.web.guard import AuthGuard

COOKIE = "tc_console"
LANG_COOKIE = "tc_lang"
PATH = "/console"
FORM_FIELD = "csrf"
DEFAULT_PORTS = {"http": 80, "https": 443}


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Refused(Exception):
    """A console POST that did not come from the console's own form: answered 403."""

    def __init__(self, reason: str, user: Principal | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


def _origin(url: str) -> tuple[str, str | None, int | None] | None:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed port
        return None


def same_origin(request: Request) -> bool:
    """The request came from a page of this origin: scheme, host and port of its ``Origin``
    (else of its ``Referer``) are the request's own."""
    given = request.headers.get("origin") or request.headers.get("referer")
    if not given or given == "null":
        return False
    here = _origin(str(request.url))
    return here is not None and _origin(given) == here


async def refuse_post(ctx: ServiceContext, request: Request, user: Principal | None,
                      reason: str) -> Refused:
    """Audit a console POST refused as cross-site, and return the exception to raise."""
    await journal(ctx, request, audits=[record(
        request, user, "console.post", "denied", detail={
            "reason": reason, "origin": request.headers.get("origin"),
            "referer": request.headers.get("referer")})])
    ctx.metrics.denials.labels("denied").inc()
    return Refused(reason, user)


async def _no_session(ctx: ServiceContext, request: Request, reason: str) -> LoginRequired:
    """Audit a page asked for without a valid session (under the failed-authentication limit
    per address; past it, counted for the minute's summary) and send the browser to sign in."""
    guard = guard_of(request)
    source = request.client.host if request.client else None
    keys = AuthGuard.keys(source, None)
    if guard.retry_after(keys) is None:
        guard.failed(keys)
        await journal(ctx, request, audits=[record(
            request, None, "console.session", "unauthenticated", detail={"reason": reason})])
    else:
        guard.hold(source, request.scope["path"])
    return LoginRequired(request.url.path)


async def console_user(request: Request, ctx: Ctx) -> Principal:
    """The person of the request's session; for a POST, only from the console's own form."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise await _no_session(ctx, request, "no session cookie")
    with ctx.readers() as session:
        principal = session_principal(session, session_id)
    if principal is None:
        raise await _no_session(ctx, request, "unknown, signed-out or expired session, or "
                                              "its token revoked or expired")
    request.state.csrf = form_token(session_id)
    request.state.principal = principal
    if request.method == "POST":
        if not same_origin(request):
            raise await refuse_post(ctx, request, principal, "cross-origin request")
        given = (await request.form()).get(FORM_FIELD)
        if not isinstance(given, str) or not form_token_ok(session_id, given):
            raise await refuse_post(ctx, request, principal, "missing or wrong form token")
    return principal


def lang_of(request: Request) -> Lang:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if asked == "en" else "zh"


ConsoleUser = Annotated[Principal, Depends(console_user)]
ConsoleLang = Annotated[Lang, Depends(lang_of)]


def to_login(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"{PATH}/login?next={exc.next_path}", status_code=303)
