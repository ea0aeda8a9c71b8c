"""Pages the console answers without a session or a database: an unknown address is the
console's 404 page in the reader's language, while the API keeps its JSON errors."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.web import errors
from service.web.console.app import mount_console
from service.web.console.session import LANG_COOKIE


@pytest.fixture(scope="module")
def client() -> TestClient:
    """The console's routes and handlers on a bare app, as ``create_app`` installs them."""
    app = FastAPI()
    errors.install(app)
    mount_console(app)
    return TestClient(app)


@pytest.mark.parametrize("path", ["/console/no-such-page", "/console/cases/1/nothing",
                                  "/no-such-page", "/console/static/missing.css"])
def test_an_unknown_address_is_a_page_in_chinese_with_a_link_home(client: TestClient,
                                                                  path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "页面不存在" in answer.text and 'href="/console" id="go-home"' in answer.text
    assert '<html lang="zh-CN">' in answer.text
    assert "Not Found" not in answer.text


def test_the_404_page_follows_the_language_cookie(client: TestClient) -> None:
    client.cookies.set(LANG_COOKIE, "en")
    try:
        answer = client.get("/console/no-such-page")
    finally:
        client.cookies.clear()
    assert answer.status_code == 404
    assert "Page not found" in answer.text and "Back to the overview" in answer.text
    assert "页面不存在" not in answer.text


def test_the_api_keeps_its_json_errors(client: TestClient) -> None:
    for path in ("/api/v1/no-such-route", "/api/nothing"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.json() == {"detail": "Not Found"}


def test_other_errors_than_404_stay_json(client: TestClient) -> None:
    answer = client.put("/console/login")  # a console route, a method it does not take
    assert answer.status_code == 405
    assert answer.json() == {"detail": "Method Not Allowed"}
