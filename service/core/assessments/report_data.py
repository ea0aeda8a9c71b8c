"""The report view models (``service.core.reports.contents``) filled from the assessment's rows.

A report is rendered in each language from the same view, so names that have two languages
keep both (the indicator's ``name_zh`` and ``name_en``), a unit that is one field reads in
both (``件/contracts``; ``%`` stays single), and a group is its key (``university/eastern``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.core.assessments import records
from service.core.assessments.tables import Assessment, AssessmentResult, AssessmentState
from service.core.reports.contents import (
    IndicatorLine,
    InstitutionReport,
    InstitutionSummary,
    TrendPoint,
    YearReport,
)


def _unit(zh: str, en: str) -> str:
    return zh if zh == en else f"{zh}/{en}"


def indicator_lines(a: Assessment, r: AssessmentResult) -> list[IndicatorLine]:
    return [IndicatorLine(
        code=ind.code, name_zh=ind.name_zh, name_en=ind.name_en, category=ind.category,
        value=s.value, unit=_unit(ind.unit_zh, ind.unit_en), weight=ind.weight,
        direction=ind.direction, score=s.score if s.score is not None else 0.0,
        group_median=s.group_median, note_zh=s.note_zh, note_en=s.note_en,
        group_median_score=s.median_score)
        for ind, s in zip(records.indicator_system(a), records.indicator_scores(r), strict=True)]


def trend(session: Session, a: Assessment, institution_id: str) -> list[TrendPoint]:
    """The institution's published years, and this year whatever its state."""
    return [TrendPoint(y.year, x.total, x.rank, x.group_size, x.outcome)
            for y, x in records.trend(session, institution_id, published_only=False)
            if y.id == a.id or y.state == AssessmentState.published.value]


def institution_report(session: Session, a: Assessment, r: AssessmentResult
                       ) -> InstitutionReport:
    return InstitutionReport(
        year=a.year, institution_id=r.institution_id, name=r.name,
        institution_type=r.institution_type, region=r.region, group=r.group_key,
        group_size=r.group_size, rank=r.rank, total=r.total,
        outcome=r.outcome,
        reasons_zh=list(r.reasons_zh), reasons_en=list(r.reasons_en),
        indicators=indicator_lines(a, r), trend=trend(session, a, r.institution_id),
        state=a.state, adjusted=r.adjusted_by is not None, published_at=a.published_at)


def year_report(session: Session, a: Assessment) -> YearReport:
    return YearReport(a.year, a.state, a.published_at, [InstitutionSummary(
        r.institution_id, r.name, r.institution_type, r.region, r.group_key, r.rank,
        r.group_size, r.total, r.outcome)
        for r in records.results(session, a.id)])


def reports(session: Session, year: int, institution_id: str | None = None
            ) -> tuple[list[InstitutionReport], YearReport]:
    """The year's report and the institutions' (one, if ``institution_id``)."""
    a = records.require(session, year)
    rows = ([records.result(session, a.id, institution_id)] if institution_id
            else records.results(session, a.id))
    return [institution_report(session, a, r) for r in rows], year_report(session, a)
