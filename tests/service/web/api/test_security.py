"""The web layer's protections against the requests a security review forged: console
sessions that are not the API token, console POSTs only from the console's own forms, sign-out
by POST, protective headers on every answer (the fast lane's too), evidence only as a download,
failed authentication limited and summarised, refusals audited under the caller's name, and a
body nested too deep refused as a client error."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from service.core.db.console_sessions import form_token
from service.web.guard import AuthGuard
from service.web.headers import SecurityHeaders, evidence
from tests.service.web.api.conftest import Api, login_form

pytestmark = pytest.mark.e2e
ORIGIN = "http://testserver"


@pytest.fixture
def console(api: Api) -> Iterator[Api]:
    """The shared client, its console cookies dropped afterwards."""
    try:
        yield api
    finally:
        api.client.cookies.clear()


def sign_in(api: Api, user: str) -> str:
    """Sign ``user`` in at the console; the session id its cookie holds."""
    answer = api.client.post("/console/login", data=login_form(api.client, api.tokens[user]),
                             headers={"Origin": ORIGIN}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.cookies["tc_console"]


def test_the_console_cookie_names_a_session_never_the_token(console: Api) -> None:
    api = console
    form = login_form(api.client, api.tokens["regulator_all"])
    answer = api.client.post("/console/login", data=form, headers={"Origin": ORIGIN},
                             follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert api.tokens["regulator_all"] not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # TECHCREDIT_CONSOLE_HTTPS is off here
    session_id = answer.cookies["tc_console"]
    home = api.client.get("/console")
    assert home.status_code == 200
    assert re.findall(r'name="csrf" value="([0-9a-f]+)"', home.text) == [form_token(session_id)]


@pytest.mark.parametrize("origin", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://testserver:4200"},  # another application on the same host: same site
    {"Referer": "https://evil.example/page"},
    {},  # neither Origin nor Referer
])
def test_a_cross_origin_console_post_is_refused_and_audited(console: Api,
                                                            origin: dict[str, str]) -> None:
    api = console
    session_id = sign_in(api, "regulator_all")
    mark = api.audit_mark()
    answer = api.client.post(
        f"/console/entities/institution/{api.entities.institution_in}/override",
        data={"grade": "D", "reason": "forged by another site", "days": "30",
              "csrf": form_token(session_id)}, headers=origin, follow_redirects=False)
    assert answer.status_code == 403
    assert [(a.actor, a.action, a.outcome, a.detail["reason"])
            for a in api.audit_since(mark)] == [
        ("regulator_all", "console.post", "denied", "cross-origin request")]


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_a_console_post_without_the_sessions_form_token_is_refused(console: Api,
                                                                   token: str | None) -> None:
    api = console
    sign_in(api, "regulator_all")
    mark = api.audit_mark()
    data = {"grade": "D", "reason": "no form token", "days": "30"}
    if token is not None:
        data["csrf"] = token
    answer = api.client.post(
        f"/console/entities/institution/{api.entities.institution_in}/override", data=data,
        headers={"Origin": ORIGIN}, follow_redirects=False)
    assert answer.status_code == 403
    assert [(a.action, a.outcome, a.detail["reason"]) for a in api.audit_since(mark)] == [
        ("console.post", "denied", "missing or wrong form token")]


def test_a_cross_origin_sign_in_is_refused(console: Api) -> None:
    api = console
    form = login_form(api.client, api.tokens["regulator_all"])
    answer = api.client.post("/console/login", data=form,
                             headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert answer.status_code == 403 and "tc_console" not in answer.cookies


def test_a_sign_in_without_the_forms_token_is_refused(console: Api) -> None:
    """Login CSRF: a page elsewhere cannot read the form's token, so a post it makes (even one
    a browser would send with a same-site Origin) signs nobody in; the form's own post does."""
    api = console
    form = login_form(api.client, api.tokens["regulator_all"])
    for data in ({"token": form["token"]}, {**form, "login_token": "guessed"}):
        refused = api.client.post("/console/login", data=data, headers={"Origin": ORIGIN},
                                  follow_redirects=False)
        assert refused.status_code == 403 and "tc_console" not in refused.cookies
    api.client.cookies.clear()  # the token's cookie gone: the field alone is not enough
    alone = api.client.post("/console/login", data=form, headers={"Origin": ORIGIN},
                            follow_redirects=False)
    assert alone.status_code == 403
    form = login_form(api.client, api.tokens["regulator_all"])
    signed = api.client.post("/console/login", data=form, headers={"Origin": ORIGIN},
                             follow_redirects=False)
    assert signed.status_code == 303 and "tc_console" in signed.cookies


def test_sign_out_is_a_post_and_ends_the_session_on_the_server(console: Api) -> None:
    api = console
    session_id = sign_in(api, "reviewer")
    assert api.client.get("/console/logout", follow_redirects=False).status_code == 405
    assert api.client.get("/console", follow_redirects=False).status_code == 200
    out = api.client.post("/console/logout", data={"csrf": form_token(session_id)},
                          headers={"Origin": ORIGIN}, follow_redirects=False)
    assert out.status_code == 303
    mark = api.audit_mark()
    api.client.cookies.set("tc_console", session_id, path="/console")  # a copied cookie
    again = api.client.get("/console", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    assert [(a.actor, a.action, a.outcome) for a in api.audit_since(mark)] == [
        ("anonymous", "console.session", "unauthenticated")]


def test_a_forged_console_cookie_is_audited(console: Api) -> None:
    api = console
    api.client.cookies.set("tc_console", "forged", path="/console")
    mark = api.audit_mark()
    assert api.client.get("/console/search?q=x", follow_redirects=False).status_code == 303
    assert [(a.action, a.outcome) for a in api.audit_since(mark)] == [
        ("console.session", "unauthenticated")]


def test_every_answer_carries_the_protective_headers(api: Api) -> None:
    path = f"/api/v1/institutions/{api.entities.institution_in}/score"
    answers = [api.get(path, "regulator_all") for _ in range(2)]  # the route, then the lane
    answers.append(api.get("/api/v1/nothing-here", "regulator_all"))
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["cache-control"] == "no-store"
    assert answers[0].content == answers[1].content
    health = api.get("/healthz")
    assert health.headers["x-frame-options"] == "DENY" and "cache-control" not in health.headers
    assert api.get("/docs").status_code == 404  # Swagger UI needs a CDN: off unless asked for
    assert api.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("media_type", ["text/html", "image/svg+xml", "application/xhtml+xml"])
def test_evidence_that_a_browser_would_run_is_served_as_opaque_bytes(media_type: str) -> None:
    answer = evidence(b"<script>alert(1)</script>", "x.html", media_type, "0" * 64)
    assert answer.media_type == "application/octet-stream"
    assert answer.headers["content-disposition"] == "attachment; filename*=UTF-8''x.html"


def test_a_body_nested_too_deep_is_a_client_error(api: Api) -> None:
    body = "[" * 1100 + "]" * 1100
    for path in ("/api/v1/contracts/check", "/api/v1/contracts/check",
                 "/api/v1/contracts/check/batch"):
        answer = api.client.post(path, content=body, headers={
            **api.auth("office"), "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, (path, answer.status_code)


def test_failed_authentication_is_limited_and_summarised(api: Api) -> None:
    path = "/api/v1/warnings?limit=1"
    assert api.get(path, "regulator_all").status_code == 200  # now a known (cached) token
    kept, guard = api.app.state.guard, AuthGuard(3)
    api.app.state.guard = guard
    try:
        mark = api.audit_mark()
        answers = [api.client.get(path, headers={"Authorization": f"Bearer tc_{i:012x}_guess"})
                   for i in range(10)]
        assert [a.status_code for a in answers] == [401] * 3 + [429] * 7
        assert int(answers[-1].headers["retry-after"]) > 0
        assert [a.outcome for a in api.audit_since(mark)] == ["unauthenticated"] * 3
        assert api.get(path, "regulator_all").status_code == 200  # a known token still works
        summary = guard.drain(everything=True)
        assert [(s.action, s.outcome, s.source, s.detail["count"]) for s in summary] == [
            ("authenticate", "throttled", "testclient", 7)]
    finally:
        api.app.state.guard = kept


def test_a_guessed_token_prefix_is_limited_across_addresses() -> None:
    guard = AuthGuard(2)
    for address in ("10.0.0.1", "10.0.0.2"):
        guard.failed(AuthGuard.keys(address, "tc_abcdef012345_wrong"))
    assert guard.retry_after(AuthGuard.keys("10.0.0.3", "tc_abcdef012345_again")) is not None
    assert guard.retry_after(AuthGuard.keys("10.0.0.3", "tc_0123456789ab_other")) is None


def test_refusals_of_an_authenticated_caller_are_audited(api: Api) -> None:
    mark = api.audit_mark()
    missing = api.post("/api/v1/models/techcredit-credit/versions/999/promote", "reviewer",
                       json={"note": "no such version", "override": False})
    assert missing.status_code == 404, missing.text
    invalid = api.post("/api/v1/contracts/check?register=false", "office", json={})
    assert invalid.status_code == 422
    assert [(a.actor, a.action, a.outcome, a.detail["status"])
            for a in api.audit_since(mark)] == [
        ("reviewer", "review_models", "not_found", 404),
        ("office", "check_contract", "invalid", 422)]


def test_over_https_the_console_cookie_is_secure(console: Api,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    api = console
    form = login_form(api.client, api.tokens["auditor"])  # read over http, its cookie plain
    monkeypatch.setattr(api.ctx.settings, "security",
                        api.ctx.settings.security.model_copy(update={"console_https": True}))
    answer = api.client.post("/console/login", data=form,
                             headers={"Origin": ORIGIN}, follow_redirects=False)
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_over_https_answers_carry_strict_transport_security() -> None:
    async def hello(_: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    app = SecurityHeaders(Starlette(routes=[Route("/", hello)]), https=True)
    answer = TestClient(app).get("/")
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert answer.headers["x-content-type-options"] == "nosniff"
