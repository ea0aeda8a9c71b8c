"""Database rows of the assessment turned into the API's answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models.assessment.credit import needs_reason
from service.core.assessments import records
from service.core.assessments.schemas import (
    AppealOut,
    AssessmentOut,
    CreditOut,
    EventOut,
    IndicatorOut,
    ResultOut,
    ResultRow,
    TrendOut,
)
from service.core.assessments.tables import Assessment, AssessmentAppeal, AssessmentResult


def appeal_deadline(a: Assessment, days: int) -> datetime | None:
    return a.published_at + timedelta(days=days) if a.published_at else None


def assessment_out(a: Assessment, counts: dict[str, int], appeal_days: int) -> AssessmentOut:
    return AssessmentOut(
        year=a.year, state=a.state, version=a.version, config_version=a.config_version,
        config_sha256=a.config_sha256, quota=a.quota, counts=counts, created_by=a.created_by,
        created_at=a.created_at, updated_by=a.updated_by, published_by=a.published_by,
        published_at=a.published_at, appeal_deadline=appeal_deadline(a, appeal_days))


def row_out(r: AssessmentResult) -> ResultRow:
    credit = records.credit_of(r)
    return ResultRow(
        credit=CreditOut(**r.credit) if r.credit else None,
        credit_flag=needs_reason(r.outcome, credit), pass_reason=r.pass_reason,
        institution_id=r.institution_id, name=r.name, institution_type=r.institution_type,
        region=r.region, tier=r.tier, group=r.group_key, group_size=r.group_size, rank=r.rank,
        total=r.total, model_outcome=r.model_outcome, outcome=r.outcome,
        adjusted=r.adjusted_by is not None, basis=r.basis, reasons_zh=r.reasons_zh,
        reasons_en=r.reasons_en)


def appeal_out(p: AssessmentAppeal, year: int) -> AppealOut:
    return AppealOut(
        id=p.id, year=year, institution_id=p.institution_id, state=p.state,
        filed_by=p.filed_by, filed_at=p.filed_at, reason=p.reason,
        requested_outcome=p.requested_outcome, deadline=p.deadline,
        outcome_before=p.outcome_before, outcome_after=p.outcome_after,
        decided_by=p.decided_by, decided_at=p.decided_at, decision_reason=p.decision_reason)


def result_out(session: Session, a: Assessment, r: AssessmentResult, published_only: bool
               ) -> ResultOut:
    """One institution's result with its indicators, decisions, appeals and trend."""
    lines = []
    for ind, s in zip(records.indicator_system(a), records.indicator_scores(r), strict=True):
        lines.append(IndicatorOut(
            code=ind.code, name_zh=ind.name_zh, name_en=ind.name_en, category=ind.category,
            weight=ind.weight, direction=ind.direction, unit_zh=ind.unit_zh,
            unit_en=ind.unit_en, limit=ind.limit, value=s.value, score=s.score,
            group_median=s.group_median, median_score=s.median_score, breach=s.breach,
            note_zh=s.note_zh, note_en=s.note_en))
    events = [EventOut(id=e.id, kind=e.kind, actor=e.actor, role=e.role, at=e.at,
                       reason=e.reason, before=e.before, after=e.after, appeal_id=e.appeal_id)
              for e in records.events(session, a.id, r.institution_id)]
    trend = [TrendOut(year=y.year, state=y.state, total=x.total, rank=x.rank,
                      group_size=x.group_size, outcome=x.outcome)
             for y, x in records.trend(session, r.institution_id, published_only)]
    return ResultOut(year=a.year, state=a.state, version=a.version,
                     result=row_out(r), report_year=r.report_year, indicators=lines,
                     events=events, appeals=[appeal_out(p, a.year) for p in records.appeals(
                         session, a.id, r.institution_id)], trend=trend)
