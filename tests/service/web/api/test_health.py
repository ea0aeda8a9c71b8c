"""``/readyz`` answers ready only when every part a request needs is there, and names the
part that is not: here the score answers' read model, which a lookup would otherwise wait
for (up to 30 s) and then refuse."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.core.db.tables import Score
from service.core.scores.read_model import ReadModel
from tests.service.web.api.conftest import Api

pytestmark = pytest.mark.e2e


def test_ready_names_the_entities_whose_answers_are_loaded(api: Api) -> None:
    answer = api.get("/readyz")
    assert answer.status_code == 200
    with api.session() as session:
        scored = session.scalar(select(func.count(func.distinct(
            Score.entity_kind + ":" + Score.entity_id))))
    assert scored
    assert answer.json()["scores"] == f"loaded ({scored} entities)"
    assert answer.json()["starting"] is False


def test_not_ready_while_the_score_answers_are_loading(api: Api) -> None:
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
    serving = ctx.scores
    # a read model before its first load (the real one's poll would load it meanwhile)
    ctx.scores = ReadModel(serving.engine, serving.directory)
    try:
        answer = api.get("/readyz")
    finally:
        ctx.scores = serving
    assert answer.status_code == 503
    assert (answer.json()["ready"], answer.json()["scores"], answer.json()["starting"]) == (
        False, "loading", True)
    assert api.get("/readyz").status_code == 200
