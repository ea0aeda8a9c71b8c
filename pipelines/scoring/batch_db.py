"""What the batch run reads from and adds to the operational database, inside one transaction.

Rows are only ever inserted: a score already written for an entity, date and model version is
skipped, never updated, so every past answer stays explainable by the model that gave it.
Reads that decide what to write (the scores already there, the previous grades, the contracts
the last batch run checked) happen in the same transaction as the writes, so two runs cannot
both decide to write the same rows (SQLite serialises writers at ``BEGIN IMMEDIATE``; on
PostgreSQL the unique key of ``scores`` refuses a duplicate and the whole run rolls back).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from models.credit_reasons import CreditReason
from models.reasons import Reason
from models.rules.tier import Tier
from models.rules.warn import RiskAlert
from models.scoring import EntityScore, ModelRef
from service.core.assessments import records as assessments
from service.core.assessments.tables import InstitutionStatus
from service.core.db.tables import ContractCheck, RiskWarning, Score
from service.core.db.types import CheckSource

Key = tuple[str, str]  # (entity kind, entity id)


@dataclass(frozen=True)
class BatchContract:
    """A contract registered since the last batch run, scored by the anomaly model."""

    contract_id: str
    registered_date: date
    probability: float
    tier: Tier | None  # None: no warning
    reasons: tuple[Reason, ...]
    model: ModelRef
    institution_id: str | None
    broker_id: str | None
    region: str | None  # the seller's province, as the real-time check records it


def last_batch_day(session: Session) -> date | None:
    """The latest registration day among contracts a batch run has checked."""
    return session.execute(select(func.max(ContractCheck.registered_date)).where(
        ContractCheck.source == CheckSource.batch.value)).scalar_one_or_none()


def batch_checked_since(session: Session, day: date) -> set[str]:
    """Contracts registered on or after ``day`` that a batch run has already checked."""
    rows = session.execute(select(ContractCheck.contract_id).where(
        ContractCheck.source == CheckSource.batch.value, ContractCheck.registered_date >= day))
    return set(rows.scalars())


def exited_institutions(session: Session) -> set[Key]:
    """Institutions whose status of record is exited (a published assessment or an appeal on
    it decided so): they are no longer scored as active."""
    return {("institution", i) for i, r in assessments.statuses(session).items()
            if r.status == InstitutionStatus.exited.value}


def latest_as_of(session: Session) -> date | None:
    """The latest as-of date any score was written for: a run before it is a backfill."""
    return session.execute(select(func.max(Score.as_of))).scalar_one_or_none()


def scored_keys(session: Session, as_of: date, model: ModelRef) -> set[Key]:
    """Entities that already have a score at ``as_of`` from this model version."""
    rows = session.execute(select(Score.entity_kind, Score.entity_id).where(
        Score.as_of == as_of, Score.model_name == model.name,
        Score.model_version == model.version))
    return {(k, i) for k, i in rows}


def previous_grades(session: Session, as_of: date) -> dict[Key, str]:
    """Each entity's grade at its latest as-of date before ``as_of`` (of any model version;
    the grade cut-offs are settings, not per model); the newest row wins a tie."""
    latest = (select(Score.entity_kind, Score.entity_id, func.max(Score.as_of).label("day"))
              .where(Score.as_of < as_of).group_by(Score.entity_kind, Score.entity_id)
              .subquery())
    rows = session.execute(
        select(Score.entity_kind, Score.entity_id, Score.grade)
        .join(latest, and_(Score.entity_kind == latest.c.entity_kind,
                           Score.entity_id == latest.c.entity_id, Score.as_of == latest.c.day))
        .order_by(Score.id))
    return {(k, i): g for k, i, g in rows}


def _texts(reasons: Iterable[Reason | CreditReason]) -> tuple[list[str], list[str]]:
    reasons = list(reasons)
    return [r.text_zh for r in reasons], [r.text_en for r in reasons]


def insert_scores(session: Session, scores: list[EntityScore], regions: Mapping[Key, str]
                  ) -> None:
    rows = []
    for s in scores:
        zh, en = _texts(s.reasons)
        rows.append({
            "entity_kind": s.kind, "entity_id": s.entity_id,
            "region": regions.get((s.kind, s.entity_id)), "as_of": s.as_of.date(),
            "model_name": s.model.name, "model_version": s.model.version, "alias": s.model.alias,
            "probability": s.probability, "points": s.points, "grade": s.grade,
            "reasons_zh": zh, "reasons_en": en,
            "reason_detail": [r.as_dict() for r in s.reasons], "repair": s.repair.as_dict(),
            "feature_as_of": s.as_of.date()})
    if rows:
        session.execute(insert(Score), rows)


def insert_warnings(session: Session, alerts: list[tuple[EntityScore, RiskAlert]],
                    regions: Mapping[Key, str]) -> None:
    rows = [{
        "entity_kind": s.kind, "entity_id": s.entity_id,
        "region": regions.get((s.kind, s.entity_id)), "tier": a.tier,
        "reason_codes": list(a.codes), "reasons_zh": list(a.reasons_zh),
        "reasons_en": list(a.reasons_en), "as_of": s.as_of.date(), "model_name": s.model.name,
        "model_version": s.model.version} for s, a in alerts]
    if rows:
        session.execute(insert(RiskWarning), rows)


def insert_contract_checks(session: Session, contracts: list[BatchContract]) -> None:
    rows = []
    for c in contracts:
        zh, en = _texts(c.reasons)
        rows.append({
            "contract_id": c.contract_id, "source": CheckSource.batch.value,
            "registered_date": c.registered_date, "institution_id": c.institution_id,
            "broker_id": c.broker_id, "region": c.region, "alias": c.model.alias,
            "checked_by": None, "probability": c.probability, "tier": c.tier,
            "reasons_zh": zh, "reasons_en": en, "rule_hits": [], "model_name": c.model.name,
            "model_version": c.model.version})
    if rows:
        session.execute(insert(ContractCheck), rows)
