"""The fast lane answers exactly as the routes do: the same bytes, the same audit entries, the
same rows; and whatever it does not answer reaches the route untouched."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import service.web.fast_lane as fast_lane
from service.core.contracts.schemas import CheckOut
from service.web.fast_lane import FastLane
from tests.service.web.api.conftest import Api, contract_body

pytestmark = pytest.mark.e2e


def _lane(api: Api) -> FastLane:
    app: Any = api.app.middleware_stack
    while not isinstance(app, FastLane):
        app = app.app
    return app


def _spy(calls: list[Any], f: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def spied(*args: Any) -> Any:
        out = await f(*args)
        calls.append(out)
        return out

    return spied


def test_a_lookup_through_the_lane_is_the_routes_answer(api: Api,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lane, answered = _lane(api), []
    monkeypatch.setattr(lane, "_lookup", _spy(answered, lane._lookup))
    api.ctx.tokens.entries.clear()  # the first request authenticates in the route
    path = f"/api/v1/institutions/{api.entities.institution_in}/score"
    mark = api.audit_mark()
    first, second = api.get(path, "reviewer"), api.get(path, "reviewer")
    assert answered == [False, True]  # the route, then the lane
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
    entries = api.audit_since(mark)
    assert [(e.actor, e.action, e.outcome, e.entity_id, e.detail) for e in entries] == [
        ("reviewer", "read_score", "ok", api.entities.institution_in, entries[0].detail)] * 2
    assert entries[0].detail == {"path": path, "score_id": entries[0].detail["score_id"]}


def test_what_the_lane_does_not_answer_reaches_the_route(api: Api,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lane, answered = _lane(api), []
    monkeypatch.setattr(lane, "_lookup", _spy(answered, lane._lookup))
    e = api.entities
    assert api.get(f"/api/v1/institutions/{e.institution_in}/score", "institution").is_success
    refused = api.get(f"/api/v1/institutions/{e.institution_out}/score", "institution")
    unknown = api.get("/api/v1/institutions/I999998/score", "admin")
    no_token = api.get(f"/api/v1/institutions/{e.institution_in}/score")
    assert (refused.status_code, unknown.status_code, no_token.status_code) == (403, 404, 401)
    assert answered[-2:] == [False, False]  # the refusal and the unknown id: the route's


def test_a_check_through_the_lane_is_the_routes_answer(api: Api,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    lane_calls: list[Any] = []
    monkeypatch.setattr(fast_lane, "check_contracts",
                        _spy(lane_calls, fast_lane.check_contracts))
    path = "/api/v1/contracts/check"
    api.post(path, "office", json=contract_body(api.trained, "FL00000001"))  # route learnt
    body = contract_body(api.trained, "FL00000002", row=-3)
    dry = api.post(f"{path}?register=false", "office", json=body)  # a query: the route
    assert not lane_calls
    mark = api.audit_mark()
    checked = api.post(path, "office", json=body)
    assert len(lane_calls) == 1 and checked.status_code == 200, checked.text
    CheckOut.model_validate_json(checked.content)
    assert {**dry.json(), "registered": True} == checked.json()
    [entry] = api.audit_since(mark)
    assert (entry.action, entry.entity_id, entry.detail["registered"]) == (
        "check_contract", "FL00000002", True)
    bad = api.post(path, "office", json={**body, "contract_id": "FL00000003", "amount_yuan": -1})
    assert bad.status_code == 422 and len(lane_calls) == 1  # validated by the route
    assert bad.json()["detail"][0]["field"] == "body.amount_yuan"
