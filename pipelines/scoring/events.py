"""Event-driven re-scoring (事件驱动重评): evidence against an entity moves its score the day it
arrives, not at the month-end batch.

The real-time check queues the institution and the broker of every contract it registers red,
and a listing queues the entities related to the listed one, each in the transaction that put
the evidence on record (``rescore_requests``). This flow scores every queued entity as of its
request's day: entity features from the curated store for that day, and contract evidence
from every score known — the stored and model scores of the store's contracts and the
registration-time checks of contracts the store does not hold yet — so the red contract that
asked for the score is in it. It warns by the entity rules in force, as the batch run does,
and records which score answered each request, in one transaction with its audit entry.

One score per entity, day and model version (the scores table's key): a second request for an
entity already scored that day is answered by that score; its evidence counts from the next
day's score on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from features.point_in_time.history import History
from features.settings import Settings, get_settings
from models.registry import CHAMPION
from models.rules.entity import AnomalyShare, EntityRules, WarningInputs
from models.rules.kinds import ENTITY
from models.rules.reviews import in_force
from models.rules.warn import anomaly_shares, warn
from models.scoring import (
    SCORE_COLUMNS,
    EntityScore,
    entity_regions,
    known_scores,
    score_entities,
)
from pipelines.scoring import batch_db as db
from pipelines.scoring.batch import Models, load_task, scoring_features, store_task
from service.core.db.audit import AuditRecord, append
from service.core.db.engine import make_engine, session_factory
from service.core.db.migrate import require_migrated
from service.core.db.tables import ContractCheck, RescoreRequest, Score

ACTOR = "flow:rescore"
ACTION = "score.event"


@dataclass(frozen=True)
class Request:
    id: int
    key: db.Key
    cause: str
    cause_id: str
    day: date


@dataclass(frozen=True)
class DayScores:
    """One request day's scores of the entities asked for, with what the warnings read."""

    day: date
    scores: list[EntityScore]
    shares: dict[db.Key, AnomalyShare]
    regions: dict[db.Key, str]


@dataclass(frozen=True)
class RescoreSummary:
    requests: int
    scored: int  # new scores written
    answered: int  # requests answered by a score already written that day
    unknown: int  # requests for an entity the store does not hold at that day
    warnings: dict[str, int]
    audit_id: int | None


def pending(session: Session) -> list[Request]:
    rows = session.scalars(select(RescoreRequest).where(RescoreRequest.done_at.is_(None))
                           .order_by(RescoreRequest.day, RescoreRequest.id))
    return [Request(r.id, (r.entity_kind, r.entity_id), r.cause, r.cause_id, r.day)
            for r in rows]


def checked_scores(session: Session, through: date) -> pd.DataFrame:
    """Registration-time checks of contracts registered on or before ``through`` as contract
    scores (:data:`models.scoring.SCORE_COLUMNS`), the latest check of each contract."""
    rows = session.execute(
        select(ContractCheck.contract_id, ContractCheck.registered_date,
               ContractCheck.institution_id, ContractCheck.broker_id, ContractCheck.probability)
        .where(ContractCheck.registered_date <= through).order_by(ContractCheck.id)).all()
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    frame["registered_date"] = pd.to_datetime(frame["registered_date"])
    return frame.drop_duplicates("contract_id", keep="last")


def score_day(models: Models, tables: dict[str, pd.DataFrame], h: History, day: date,
              wanted: set[db.Key], checked: pd.DataFrame, rules: EntityRules) -> DayScores:
    """The entities in ``wanted`` as of ``day``, with the checks' evidence (pure of the
    database: ``checked`` was read before)."""
    ts = pd.Timestamp(day)
    scorer = models.scorer
    features, later = scoring_features(scorer, tables, h, ts, ts)
    everyone = score_entities(scorer, features, later, ts, checked)
    shares = anomaly_shares(known_scores(scorer, later, ts, checked), ts, rules.anomaly)
    return DayScores(day, [s for s in everyone if (s.kind, s.entity_id) in wanted],
                     dict(shares), entity_regions(tables, ts))


def _existing(session: Session, day: date, scores: list[EntityScore]) -> dict[db.Key, int]:
    keys = {(s.kind, s.entity_id) for s in scores}
    if not scores:
        return {}
    model = scores[0].model
    rows = session.execute(select(Score.entity_kind, Score.entity_id, Score.id).where(
        Score.as_of == day, Score.model_name == model.name,
        Score.model_version == model.version))
    return {(k, i): sid for k, i, sid in rows if (k, i) in keys}


def write_day(session: Session, requests: list[Request], scored: DayScores, rules: EntityRules
              ) -> tuple[int, int, Counter[str]]:
    """Scores not yet written that day, their warnings, and each request marked done with the
    score that answered it: (written, answered by an earlier score, warnings by tier)."""
    already = _existing(session, scored.day, scored.scores)
    new = [s for s in scored.scores if (s.kind, s.entity_id) not in already]
    previous = db.previous_grades(session, scored.day)
    alerts = warn(rules, [WarningInputs(
        s.points, s.probability, s.grade, previous.get((s.kind, s.entity_id)),
        scored.shares.get((s.kind, s.entity_id))) for s in new])
    warned = [(s, a) for s, a in zip(new, alerts, strict=True) if a is not None]
    db.insert_scores(session, new, scored.regions)
    db.insert_warnings(session, warned, scored.regions)
    ids = {**already, **_existing(session, scored.day, new)}
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    for r in requests:
        session.execute(update(RescoreRequest).where(
            RescoreRequest.id == r.id, RescoreRequest.done_at.is_(None)).values(
            done_at=now, score_id=ids.get(r.key)))
    answered = sum(1 for r in requests if r.key in already)
    return len(new), answered, Counter(str(a.tier) for _, a in warned)


@task(name="rescore-pending", cache_policy=NO_CACHE)
def rescore_task(engine: Engine, settings: Settings, source: Path | None, alias: str
                 ) -> RescoreSummary:
    with session_factory(engine)() as session:
        queue = pending(session)
    if not queue:
        return RescoreSummary(0, 0, 0, 0, {}, None)
    rules = in_force(settings, ENTITY).rules
    tables, h = store_task.fn(settings, source)
    models = load_task.fn(settings, alias)
    written = answered = unknown = 0
    tiers: Counter[str] = Counter()
    with session_factory(engine).begin() as session:
        checked = checked_scores(session, max(r.day for r in queue))
        for day in sorted({r.day for r in queue}):
            todays = [r for r in queue if r.day == day]
            scored = score_day(models, tables, h, day, {r.key for r in todays}, checked, rules)
            found = {(s.kind, s.entity_id) for s in scored.scores}
            unknown += sum(1 for r in todays if r.key not in found)
            n, a, t = write_day(session, todays, scored, rules)
            written, answered, tiers = written + n, answered + a, tiers + t
        entry = append(session, AuditRecord(
            actor=ACTOR, action=ACTION, outcome="ok", source=ACTOR, detail={
                "requests": len(queue), "days": sorted({r.day.isoformat() for r in queue}),
                "scored": written, "answered_by_earlier": answered, "unknown": unknown,
                "warnings": dict(tiers), "credit_model": [models.scorer.credit_ref.name,
                                                         models.scorer.credit_ref.version],
                "causes": sorted({f"{r.cause}:{r.cause_id}" for r in queue})}))
    return RescoreSummary(len(queue), written, answered, unknown, dict(tiers), entry.id)


@flow(name="rescore-events")
def rescore_flow(source: Path | None = None, settings: Settings | None = None,
                 alias: str = CHAMPION) -> RescoreSummary:
    """Score every entity queued by new evidence as of its evidence's day, warn, and record
    which score answered each request (事件驱动重评)."""
    s = settings or get_settings()
    engine = make_engine(s.db_url)
    try:
        require_migrated(engine)
        return rescore_task(engine, s, source, alias)
    finally:
        engine.dispose()


def format_rescore(s: RescoreSummary) -> str:
    if not s.requests:
        return "事件重评 event re-scoring: 无待处理请求 no pending requests"
    tiers = ", ".join(f"{t} {n}" for t, n in sorted(s.warnings.items())) or "0"
    return (f"事件重评 event re-scoring: {s.requests} 请求 requests; 新评分 scored {s.scored}; "
            f"当日已有评分 answered by the day's earlier score {s.answered}; "
            f"数据中无此主体 not in the store {s.unknown}; 预警 warnings {tiers}; "
            f"审计 audit #{s.audit_id}")
