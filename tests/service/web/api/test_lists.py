"""The lists page by keyset: following ``next_cursor`` / ``before_id`` walks every row once, in
order, and a page over the configured maximum is a 422 naming the limit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.core.db.tables import RiskWarning, Score
from tests.service.web.api.conftest import AS_OF, Api

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("sort", ["-points", "points", "entity_id"])
def test_scores_page_through_every_entity_once_in_order(api: Api, sort: str) -> None:
    rows, cursor = [], None
    while True:
        query = f"/api/v1/scores?sort={sort}&limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, "reviewer").json()
        assert page["as_of"] == AS_OF and len(page["items"]) <= 7
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    with api.session() as session:
        total = session.scalar(select(func.count()).select_from(Score))
    assert len(rows) == len({r["id"] for r in rows}) == total
    key = {"-points": lambda r: (-r["points"], -r["id"]),
           "points": lambda r: (r["points"], r["id"]),
           "entity_id": lambda r: (r["entity_id"], r["id"])}[sort]
    assert rows == sorted(rows, key=key)


def test_warnings_page_newest_first_and_the_page_maximum_holds(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, before = [], None
    while True:
        query = "/api/v1/warnings?limit=20" + (f"&before_id={before}" if before else "")
        page = api.get(query, "regulator_all").json()
        ids += [w["id"] for w in page["items"]]
        before = page["next_cursor"]
        if before is None:
            break
    with api.session() as session:
        expected = list(session.scalars(select(RiskWarning.id).where(
            RiskWarning.state == "open").order_by(RiskWarning.id.desc())))
    assert ids == expected and len(ids) == sum(api.batch.warnings.values())

    monkeypatch.setattr(api.ctx.settings, "api",
                        api.ctx.settings.api.model_copy(update={"page_max": 10}))
    over = api.get("/api/v1/warnings?limit=11", "regulator_all")
    assert over.status_code == 422
    assert over.json()["detail"] == [{"field": "query.limit", "rule": "less_than_equal",
                                      "message": "at most 10 rows per page"}]
    clamped = api.get("/api/v1/scores?limit=11", "regulator_all").json()
    assert len(clamped["items"]) == 10 and clamped["next_cursor"] is not None
