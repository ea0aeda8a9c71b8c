"""What the last form did, as only the server can say it.

A form's POST answers with a redirect (see other) to the page it came from; that page shows a
banner with the outcome. The banner used to travel in the address (``?msg=``), so any link
could show a forged "done" on the console's own page. Now the POST handler seals the banner
into a short-lived cookie: its words, whether it is an error, the case it concerns and when it
was issued, signed with an HMAC keyed by the session's id (as the form token is), so neither
another site on the same host (cookies ignore ports) nor another session can plant one. The
next page shows it once and deletes it; the address's ``msg`` is ignored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from fastapi import Request, Response

from service.web.console.session import COOKIE, PATH

FLASH_COOKIE = "tc_flash"
MAX_AGE_S = 120  # a redirect is followed at once; an old banner would mislead
SALT = b"console-flash:"


@dataclass(frozen=True)
class Flash:
    """A banner: its words in the reader's language, an error or not, the case it names."""

    text: str
    error: bool = False
    case_id: int | None = None


def _sign(session_id: str, payload: bytes) -> str:
    return hmac.new(session_id.encode("utf-8"), SALT + payload, hashlib.sha256).hexdigest()


def seal(session_id: str, flash: Flash, now: float) -> str:
    """The cookie's value: the banner and its time, then their signature."""
    payload = base64.urlsafe_b64encode(json.dumps(
        {"t": flash.text, "e": flash.error, "c": flash.case_id, "at": int(now)},
        ensure_ascii=False).encode("utf-8"))
    return f"{payload.decode('ascii')}.{_sign(session_id, payload)}"


def unseal(session_id: str, value: str, now: float) -> Flash | None:
    """The banner, if this session's server signed it less than ``MAX_AGE_S`` ago."""
    payload, _, signature = value.rpartition(".")
    if not payload or not hmac.compare_digest(_sign(session_id, payload.encode("ascii",
                                                                               "replace")),
                                              signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload))
        issued, text = int(data["at"]), str(data["t"])
        case_id = int(data["c"]) if data.get("c") is not None else None
    except (ValueError, KeyError, TypeError):
        return None
    if not 0 <= now - issued <= MAX_AGE_S:
        return None
    return Flash(text, bool(data.get("e")), case_id)


def issue(request: Request, response: Response, flash: Flash) -> None:
    """Put the banner on the redirect a form's POST answers with."""
    session_id = request.cookies.get(COOKIE, "")
    if not session_id:  # a console POST has a session; without one there is nobody to tell
        return
    response.set_cookie(FLASH_COOKIE, seal(session_id, flash, time.time()), path=PATH,
                        httponly=True, samesite="strict", max_age=MAX_AGE_S,
                        secure=request.app.state.ctx.settings.security.console_https)


def take(request: Request) -> Flash | None:
    """The banner the last POST issued to this session, if any (the caller deletes it)."""
    value, session_id = request.cookies.get(FLASH_COOKIE), request.cookies.get(COOKIE)
    if not value or not session_id:
        return None
    return unseal(session_id, value, time.time())
