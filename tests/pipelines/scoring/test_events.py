"""Event-driven re-scoring on the trained tiny market, on SQLite and PostgreSQL: flagged
contracts registered through the check move their broker's and institution's scores the same
day — probability never lower, rank never lower — and each request records the score that
answered it; a second run has nothing to do."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from features.settings import DatabaseSettings, Settings
from models.rules.kinds import ENTITY
from models.rules.reviews import in_force
from models.scoring import SCORE_COLUMNS
from pipelines.scoring.batch import load_task, store_task
from pipelines.scoring.events import rescore_task, score_day
from service.core.db.engine import session_factory
from service.core.db.tables import AuditEntry, ContractCheck, RescoreRequest, Score
from service.core.db.types import RescoreCause
from tests.trained import Trained, build, shared_folder

pytestmark = pytest.mark.e2e

DAY = date(2020, 7, 15)  # between month ends: no batch score that day
FLAGGED = 8  # contracts checked red for the broker that day, one at a time


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return build(shared_folder(tmp_path_factory))


def _busiest_broker(trained: Trained) -> tuple[str, str]:
    """The broker with most contracts in the first half of 2020, and its latest institution."""
    c = pd.read_parquet(trained.source / "contracts.parquet")
    c = c[pd.to_datetime(c["registered_date"]).between("2020-01-01", "2020-06-30")
          & c["broker_id"].notna() & c["institution_id"].notna()]
    broker = str(c["broker_id"].value_counts().index[0])
    mine = c[c["broker_id"] == broker].sort_values("registered_date")
    return broker, str(mine["institution_id"].iloc[-1])


def _checks(broker: str, institution: str, n: int) -> pd.DataFrame:
    """``n`` registration-time checks, red, of contracts the store does not hold."""
    return pd.DataFrame({
        "contract_id": [f"CEVENT{i:04d}" for i in range(n)],
        "registered_date": pd.Timestamp(DAY), "institution_id": institution,
        "broker_id": broker, "p_anomaly": 0.97})[SCORE_COLUMNS]


def test_flagged_contracts_raise_probability_and_never_rank(trained: Trained) -> None:
    """Each further red contract of the day: the broker's probability never falls and its rank
    among everyone scored that day never falls. (The tiny market's champion may give the
    evidence no weight at all — no contract of it reaches the flag probability — so a strict
    rise is shown on a model that uses it: tests/models/test_entity_evidence.py.)"""
    broker, institution = _busiest_broker(trained)
    tables, h = store_task.fn(trained.settings, trained.source)
    models = load_task.fn(trained.settings, "champion")
    rules = in_force(trained.settings, ENTITY).rules
    everyone = _all(tables)
    probabilities, ranks = [], []
    for n in range(FLAGGED + 1):
        day = score_day(models, tables, h, DAY, everyone, _checks(broker, institution, n), rules)
        mine = next(s.probability for s in day.scores if s.entity_id == broker)
        probabilities.append(mine)
        ranks.append(sum(s.probability > mine for s in day.scores if s.entity_id != broker))
    assert probabilities == sorted(probabilities)
    assert ranks == sorted(ranks, reverse=True)


def _all(tables: dict[str, pd.DataFrame]) -> set[tuple[str, str]]:
    return ({("institution", str(i)) for i in tables["institutions"]["institution_id"]}
            | {("broker", str(b)) for b in tables["brokers"]["broker_id"]})


def test_the_flow_answers_each_request_with_a_score_of_the_day(
    trained: Trained, db_url: str, engine: Engine
) -> None:
    broker, institution = _busiest_broker(trained)
    settings = Settings(home=trained.settings.home, database=DatabaseSettings(url=db_url))
    with session_factory(engine).begin() as session:
        for i, row in enumerate(_checks(broker, institution, 3).itertuples(index=False)):
            session.add(ContractCheck(
                contract_id=row.contract_id, registered_date=DAY, institution_id=institution,
                broker_id=broker, probability=row.p_anomaly, tier="red", reasons_zh=[],
                reasons_en=[], rule_hits=[], model_name="techcredit-anomaly", model_version="1"))
            for kind, entity in (("institution", institution), ("broker", broker)):
                session.add(RescoreRequest(entity_kind=kind, entity_id=entity,
                                           cause=RescoreCause.red_contract.value,
                                           cause_id=row.contract_id, day=DAY))
            assert i < 3
    summary = rescore_task.fn(engine, settings, trained.source, "champion")
    assert (summary.requests, summary.scored, summary.unknown) == (6, 2, 0)
    with session_factory(engine)() as session:
        scores = {s.entity_id: s for s in session.scalars(select(Score).where(Score.as_of == DAY))}
        assert set(scores) == {broker, institution}
        requests = session.scalars(select(RescoreRequest)).all()
        assert all(r.done_at is not None and r.score_id == scores[r.entity_id].id
                   for r in requests)
        entry = session.get(AuditEntry, summary.audit_id)
        assert entry is not None and entry.action == "score.event"
        assert entry.detail["scored"] == 2 and entry.detail["requests"] == 6
    again = rescore_task.fn(engine, settings, trained.source, "champion")
    assert (again.requests, again.scored, again.audit_id) == (0, 0, None)
