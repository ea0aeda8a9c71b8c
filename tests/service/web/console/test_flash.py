"""The banner after a form is the server's word: sealed with the session's key, shown once,
stale after a couple of minutes, and never read from the address (``?msg=``)."""

from __future__ import annotations

import time
from types import SimpleNamespace

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.testclient import TestClient

from service.web.console.flash import FLASH_COOKIE, MAX_AGE_S, Flash, seal, unseal
from service.web.console.render import back, page
from service.web.console.session import COOKIE

NOW = 1_800_000_000.0


def test_a_sealed_banner_opens_with_its_session_only() -> None:
    banner = Flash("已设置人工调整：D", error=False, case_id=7)
    value = seal("session-a", banner, NOW)
    assert unseal("session-a", value, NOW + 1) == banner
    assert unseal("session-b", value, NOW + 1) is None


def test_a_tampered_or_stale_banner_is_ignored() -> None:
    value = seal("s", Flash("ok"), NOW)
    payload, _, signature = value.rpartition(".")
    forged = seal("other", Flash("伪造的成功"), NOW).rpartition(".")[0]
    assert unseal("s", f"{forged}.{signature}", NOW) is None
    assert unseal("s", f"{payload}.{'0' * 64}", NOW) is None
    assert unseal("s", "garbage", NOW) is None
    assert unseal("s", value, NOW + MAX_AGE_S + 1) is None
    assert unseal("s", value, NOW - 5) is None  # issued "in the future"


def _app() -> FastAPI:
    """A page and a form's POST, as the console's views use ``page`` and ``back``."""
    app = FastAPI()
    app.state.ctx = SimpleNamespace(settings=SimpleNamespace(
        security=SimpleNamespace(console_https=False)))

    @app.get("/console/here", response_class=HTMLResponse)
    async def here(request: Request) -> HTMLResponse:
        return page(request, "message.html", "zh", None, "t", heading="h", message="m")

    @app.post("/console/here")
    async def done(request: Request) -> Response:
        return back(request, "/console/here", "已完成", case_id=3)

    return app


def test_the_address_cannot_show_a_banner_and_a_real_post_shows_one_once() -> None:
    client = TestClient(_app())
    client.cookies.set(COOKIE, "the-session")
    forged = client.get("/console/here", params={"msg": "201 已设置人工调整: A"})
    assert 'id="flash"' not in forged.text and "已设置人工调整" not in forged.text

    posted = client.post("/console/here", follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/console/here"
    assert "msg=" not in posted.headers["location"]
    assert FLASH_COOKIE in posted.cookies
    shown = client.get("/console/here")
    assert '<div class="flash " id="flash">已完成</div>' in shown.text
    again = client.get("/console/here")  # the banner's cookie was deleted: shown once
    assert 'id="flash"' not in again.text


def test_a_banner_planted_for_another_session_is_not_shown() -> None:
    client = TestClient(_app())
    client.cookies.set(COOKIE, "mine")
    client.cookies.set(FLASH_COOKIE, seal("someone-else", Flash("伪造"), time.time()))
    assert 'id="flash"' not in client.get("/console/here").text
