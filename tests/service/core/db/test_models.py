"""The tables round-trip on both backends; scores keep their history and refuse duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.core.db.tables import ContractCheck, Override, RiskWarning, Score

AS_OF = date(2020, 6, 30)


def _score(version: str = "1", as_of: date = AS_OF, grade: str = "B") -> Score:
    return Score(entity_kind="institution", entity_id="I000001", as_of=as_of,
                 model_name="techcredit-credit", model_version=version, alias="champion",
                 probability=0.031, points=581.5, grade=grade,
                 reasons_zh=["合同金额异常"], reasons_en=["unusual contract amounts"],
                 feature_as_of=as_of)


def test_every_table_round_trips(sessions: sessionmaker[Session]) -> None:
    expires = datetime(2027, 1, 1, 8, tzinfo=UTC)
    with sessions.begin() as s:
        s.add_all([
            _score(),
            ContractCheck(contract_id="C2020000001", probability=0.92, tier="red",
                          reasons_zh=["循环交易"], reasons_en=["circular trade"],
                          rule_hits=["cycle_close"], model_name="techcredit-anomaly",
                          model_version="3"),
            RiskWarning(entity_kind="broker", entity_id="B000009", tier="orange",
                        reason_codes=["grade_drop"], reasons_zh=["等级下降两级"],
                        reasons_en=["grade fell two steps"], as_of=AS_OF,
                        model_name="techcredit-credit", model_version="1"),
            Override(entity_kind="institution", entity_id="I000001", grade="D",
                     reason="列入失信名单", set_by="王监管", expires_at=expires),
        ])
    with sessions() as s:
        score = s.scalars(select(Score)).one()
        assert (score.grade, score.reasons_zh, score.as_of) == ("B", ["合同金额异常"], AS_OF)
        assert score.created_at.tzinfo is not None
        assert abs(score.created_at - datetime.now(UTC)) < timedelta(minutes=1)
        check = s.scalars(select(ContractCheck)).one()
        assert (check.tier, check.rule_hits) == ("red", ["cycle_close"])
        warning = s.scalars(select(RiskWarning)).one()
        assert (warning.state, warning.reason_codes) == ("open", ["grade_drop"])
        override = s.scalars(select(Override)).one()
        assert override.expires_at == expires and override.revoked_at is None


def test_scores_keep_history_and_refuse_duplicates(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add_all([_score("1"), _score("2", grade="A"), _score("1", as_of=date(2020, 7, 31))])
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.add(_score("1", grade="D"))  # same entity, as-of and model version: never overwritten
    with sessions() as s:
        grades = s.execute(select(Score.model_version, Score.as_of, Score.grade)
                           .order_by(Score.id)).all()
    assert [tuple(g) for g in grades] == [
        ("1", AS_OF, "B"), ("2", AS_OF, "A"), ("1", date(2020, 7, 31), "B")]


def test_a_tier_outside_the_four_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), sessions.begin() as s:
        s.add(RiskWarning(entity_kind="broker", entity_id="B1", tier="purple", reason_codes=[],
                          reasons_zh=[], reasons_en=[], as_of=AS_OF, model_name="m",
                          model_version="1"))
