"""The score lookups' read model: what another process writes shows within a poll, only what
changed is reloaded, overrides expire on time, and each answer is what the route promises."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Hashable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, update
from sqlalchemy.orm import Session, sessionmaker

from service.core.contracts.directory import EntityInfo
from service.core.db.tables import Override, RiskWarning, Score
from service.core.db.types import utcnow
from service.core.scores.read_model import ReadModel
from service.core.scores.schemas import EntityScoreOut
from service.core.scores.sources import HISTORY_LIMIT, SOURCES, Key, Source

KEY = ("institution", "I000001")
OTHER = ("broker", "B0000001")


def _score(key: Key, as_of: date, points: float, version: str = "1") -> Score:
    return Score(entity_kind=key[0], entity_id=key[1], region="110000", as_of=as_of,
                 model_name="credit", model_version=version, alias="champion",
                 probability=0.05, points=points, grade="B", reasons_zh=["原因"],
                 reasons_en=["reason"], feature_as_of=as_of)


def _warning(key: Key, as_of: date, tier: str) -> RiskWarning:
    return RiskWarning(entity_kind=key[0], entity_id=key[1], region="110000", tier=tier,
                       reason_codes=["x"], reasons_zh=["预警"], reasons_en=["warned"],
                       as_of=as_of, model_name="credit", model_version="1")


def _add(sessions: sessionmaker[Session], *rows: Any) -> None:
    with sessions.begin() as s:
        s.add_all(rows)


def _answer(model: ReadModel, key: Key) -> dict[str, Any] | None:
    entry = asyncio.run(_get(model, key))
    return None if entry is None else json.loads(entry.body)


async def _get(model: ReadModel, key: Key) -> Any:
    return await model.get(key)


def _model(engine: Engine, directory: Mapping[Key, EntityInfo] | None = None,
           sources: tuple[Source, ...] = SOURCES) -> ReadModel:
    return ReadModel(engine, lambda: directory or {}, sources)


def test_answers_validate_and_carry_history_warning_and_status(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    _add(sessions, _score(KEY, date(2020, 6, 30), 560.0), _score(KEY, date(2020, 12, 31), 580.0),
         _warning(KEY, date(2020, 6, 30), "red"), _warning(KEY, date(2020, 12, 31), "blue"),
         _warning(KEY, date(2020, 12, 31), "yellow"))
    info = EntityInfo("institution", KEY[1], "110000", "warned", KEY[1])
    model = _model(engine, {KEY: info})
    asyncio.run(model.refresh())
    answer = _answer(model, KEY)
    assert answer is not None
    EntityScoreOut.model_validate(answer)  # the documented response model
    assert (answer["points"], answer["as_of"], answer["registry_status"]) == (
        580.0, "2020-12-31", "warned")
    assert [h["as_of"] for h in answer["history"]] == ["2020-12-31", "2020-06-30"]
    assert answer["warning"]["tier"] == "yellow"  # the latest warning of the latest date
    assert answer["override"] is None and answer["effective_grade"] == "B"
    assert model.current(KEY) is not None and model.current(OTHER) is None
    assert _answer(model, OTHER) is None


def test_a_score_written_by_another_process_shows_within_a_poll(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    _add(sessions, _score(KEY, date(2020, 6, 30), 560.0))
    model = _model(engine)

    async def scenario() -> tuple[float, float | None]:
        poller = asyncio.create_task(model.poll(0.05))
        try:
            await model.loaded.wait()
            before = json.loads((await model.get(KEY)).body)["points"]
            _add(sessions, _score(KEY, date(2020, 12, 31), 590.0),
                 _score(OTHER, date(2020, 12, 31), 500.0))
            for _ in range(200):  # 10 s at most; a poll is 0.05 s
                await asyncio.sleep(0.05)
                if model.current(OTHER) is not None:
                    break
            entry = await model.get(KEY)
            return before, json.loads(entry.body)["points"] if entry else None
        finally:
            poller.cancel()

    assert asyncio.run(scenario()) == (560.0, 590.0)


def test_only_what_changed_is_reloaded(engine: Engine, sessions: sessionmaker[Session]) -> None:
    loads: list[Hashable | None] = []
    scores = SOURCES[0]

    def counted(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
                ) -> dict[Key, Any]:
        loads.append(since)
        return scores.load(conn, since, current)

    _add(sessions, _score(KEY, date(2020, 6, 30), 560.0), _score(OTHER, date(2020, 6, 30), 1.0))
    model = _model(engine, sources=(Source("scores", scores.marker, counted), *SOURCES[1:]))
    assert asyncio.run(model.refresh()) == 2
    assert asyncio.run(model.refresh()) == 0  # no marker moved: nothing loaded or rendered
    _add(sessions, *(_score(KEY, date(2019, 1, 1) + timedelta(days=i), 500.0 + i)
                     for i in range(HISTORY_LIMIT + 3)))
    assert asyncio.run(model.refresh()) == 1  # one entity changed
    assert loads[0] is None and loads[1] is not None and len(loads) == 2
    answer = _answer(model, KEY)
    assert answer is not None and len(answer["history"]) == HISTORY_LIMIT
    assert answer["as_of"] == "2020-06-30"  # still the newest date


def test_an_override_shows_until_it_expires_or_is_revoked(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    _add(sessions, _score(KEY, date(2020, 6, 30), 560.0),
         Override(entity_kind=KEY[0], entity_id=KEY[1], grade="A", reason="long one",
                  set_by="r", created_at=now, expires_at=now + timedelta(days=30)))
    model = _model(engine)
    asyncio.run(model.refresh())
    assert _answer(model, KEY)["effective_grade"] == "A"  # type: ignore[index]
    _add(sessions, Override(entity_kind=KEY[0], entity_id=KEY[1], grade="D",
                            reason="short one", set_by="r", created_at=utcnow(),
                            expires_at=utcnow() + timedelta(seconds=2)))
    asyncio.run(model.refresh())
    assert _answer(model, KEY)["override"]["grade"] == "D"  # type: ignore[index]
    time.sleep(max(0.0, model.entries[KEY].valid_until - time.time()) + 0.05)
    assert model.current(KEY) is None  # expired: the fast lane must not serve it
    assert _answer(model, KEY)["override"]["grade"] == "A"  # type: ignore[index]
    with sessions.begin() as s:
        s.execute(update(Override).values(revoked_at=now))
    asyncio.run(model.refresh())
    answer = _answer(model, KEY)
    assert answer is not None and answer["override"] is None
    assert answer["effective_grade"] == answer["grade"] == "B"


def test_a_new_source_is_polled_by_its_marker(engine: Engine,
                                             sessions: sessionmaker[Session]) -> None:
    """The hook for a new per-entity field: its loader runs on the first refresh and then
    only when its marker moves, and what it loads reaches the render."""
    marker = [1]
    loads: list[Hashable | None] = []

    def load(conn: Connection, since: Hashable | None, current: Mapping[Key, Any]
             ) -> dict[Key, Any]:
        loads.append(since)
        return {KEY: marker[0]}

    _add(sessions, _score(KEY, date(2020, 6, 30), 560.0))
    model = _model(engine, sources=(*SOURCES, Source("cases", lambda conn: marker[0], load)))
    asyncio.run(model.refresh())
    asyncio.run(model.refresh())
    marker[0] = 2
    assert asyncio.run(model.refresh()) == 1
    assert loads == [None, 1]
    assert model.values["cases"] == {KEY: 2}


def test_the_answer_carries_reasons_in_points_and_the_repair_guidance(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    reason = {"code": "C04", "zh": "拆分、循环或互为买卖方的合同",
              "en": "split, circular or reciprocal contracts", "feature": "inst_split_share_365d",
              "detail_zh": "同日同双方拆分合同占比", "detail_en": "share of same-day splits",
              "value": 0.3, "points": 12.5, "action_zh": "不拆分合同", "action_en": "do not split",
              "text_zh": "…", "text_en": "…"}
    repair = {"grade": "C", "target": "B", "reachable": True,
              "changes": [{"feature": "inst_split_share_365d", "code": "C04", "zh": "占比",
                           "en": "share", "before": 0.3, "after": 0.1}],
              "probability": 0.08, "probability_after": 0.05, "points_after": 585.0,
              "method": "greedy", "entity_zh": "升至B级", "entity_en": "to reach B",
              "regulator_zh": "监管", "regulator_en": "regulator"}
    row = _score(KEY, date(2020, 12, 31), 570.0)
    row.reason_detail, row.repair = [reason], repair
    _add(sessions, row, _score(OTHER, date(2020, 12, 31), 590.0))  # an older row: neither
    model = _model(engine)
    asyncio.run(model.refresh())
    answer = _answer(model, KEY)
    EntityScoreOut.model_validate(answer)
    (r,) = answer["reasons"]
    assert (r["code"], r["points"], r["action_en"]) == ("C04", 12.5, "do not split")
    assert answer["repair"]["target"] == "B" and answer["repair"]["changes"][0]["after"] == 0.1
    older = _answer(model, OTHER)
    assert older["reasons"] == [] and older["repair"] is None
