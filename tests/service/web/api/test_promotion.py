"""A promotion's refusals through the API: a version the registry does not have is a 404, a
note of spaces or with a NUL is a 422 naming the field, never a 500."""

from __future__ import annotations

import pytest

from models.registry import CREDIT_MODEL
from tests.service.web.api.conftest import Api

pytestmark = pytest.mark.e2e
PROMOTE = f"/api/v1/models/{CREDIT_MODEL}/versions/{{}}/promote"


def test_an_unknown_version_is_not_found(api: Api) -> None:
    answer = api.post(PROMOTE.format(987), "reviewer", json={"note": "reviewed the report"})
    assert answer.status_code == 404
    assert "987" in answer.json()["detail"]


@pytest.mark.parametrize("note", ["   ", "ok\x00then"])
def test_a_note_that_says_nothing_or_holds_a_nul_is_refused(api: Api, note: str) -> None:
    answer = api.post(PROMOTE.format(1), "reviewer", json={"note": note})
    assert answer.status_code == 422
    assert "note" in answer.text
    ack = api.post("/api/v1/monitoring/alerts/1/acknowledge", "reviewer", json={"note": note})
    assert ack.status_code == 422 and "note" in ack.text
