"""Assessments in the database: what the flow and the API read, and the draft the flow writes.

Functions take a session inside the caller's transaction. The draft of a year is one row of
``assessments`` (unique per year) with its results: re-running a year replaces the results of
its draft and moves its version (so an adjustment made on the replaced draft cannot land on
the new one), and a published year is refused — it changes only through appeals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from models.assessment.config import Indicator
from models.assessment.credit import CreditStanding, needs_reason
from models.assessment.outcomes import Assessment as Proposal
from models.assessment.outcomes import InstitutionResult
from models.assessment.ranking import IndicatorScore
from service.core.assessments.tables import (
    AppealState,
    Assessment,
    AssessmentAppeal,
    AssessmentEvent,
    AssessmentResult,
    AssessmentState,
    EventKind,
    InstitutionStatusRecord,
    Outcome,
)
from service.core.cases.enums import ON_LIST
from service.core.cases.tables import Case
from service.core.db.tables import RiskWarning, Score
from service.core.paging import Key, Keyset, Page, PageRequest, fetch

STATUS_OF = {Outcome.passed.value: "active", Outcome.warning.value: "warned",
             Outcome.exit.value: "exited"}  # what a published outcome makes of an institution


class Conflict(Exception):
    """A refused decision (HTTP 409), naming the rule it broke."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class NotFound(LookupError):
    """No such assessment, result or appeal (HTTP 404)."""


@dataclass(frozen=True)
class Actor:
    user: str
    role: str | None


def by_year(session: Session, year: int) -> Assessment | None:
    return session.scalar(select(Assessment).where(Assessment.year == year))


def require(session: Session, year: int) -> Assessment:
    found = by_year(session, year)
    if found is None:
        raise NotFound(f"no assessment of {year} / 无该年度考核")
    return found


NEWEST_YEAR_FIRST = Keyset("assessments", (Key(Assessment.year, int, descending=True),))
# by group, then rank; the institution is unique within one assessment's results
RESULT_ORDER = Keyset("assessment-results", (Key(AssessmentResult.group_key, str),
                                             Key(AssessmentResult.rank, int),
                                             Key(AssessmentResult.institution_id, str)))
APPEAL_ORDER = Keyset("assessment-appeals", (Key(AssessmentAppeal.id, int),))


def _assessments(published_only: bool) -> Select[tuple[Assessment]]:
    q = select(Assessment)
    if published_only:
        q = q.where(Assessment.state == AssessmentState.published.value)
    return q


def assessments(session: Session, published_only: bool) -> list[Assessment]:
    return list(session.scalars(_assessments(published_only).order_by(
        *NEWEST_YEAR_FIRST.order_by())))


def assessments_page(session: Session, published_only: bool, ask: PageRequest
                     ) -> Page[Assessment]:
    """Every year's assessment, newest first, counted (one a year)."""
    return fetch(session, _assessments(published_only), NEWEST_YEAR_FIRST, ask, counted=True)


def outcome_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per assessment id, how many results have each outcome in force."""
    rows = session.execute(select(AssessmentResult.assessment_id, AssessmentResult.outcome,
                                  func.count()).group_by(AssessmentResult.assessment_id,
                                                         AssessmentResult.outcome))
    out: dict[int, dict[str, int]] = {}
    for aid, outcome, n in rows:
        out.setdefault(aid, {o.value: 0 for o in Outcome})[outcome] = n
    return out


@dataclass(frozen=True)
class ResultFilter:
    group: str | None = None
    outcome: str | None = None
    regions: tuple[str, ...] | None = None  # None: every region
    institution_id: str | None = None


def _results(assessment_id: int, f: ResultFilter) -> Select[tuple[AssessmentResult]]:
    q = select(AssessmentResult).where(AssessmentResult.assessment_id == assessment_id)
    for column, value in ((AssessmentResult.group_key, f.group),
                          (AssessmentResult.outcome, f.outcome),
                          (AssessmentResult.institution_id, f.institution_id)):
        if value is not None:
            q = q.where(column == value)
    if f.regions is not None:
        q = q.where(AssessmentResult.region.in_(f.regions))
    return q


def results(session: Session, assessment_id: int, *, group: str | None = None,
            outcome: str | None = None, regions: Iterable[str] | None = None,
            institution_id: str | None = None) -> list[AssessmentResult]:
    f = ResultFilter(group, outcome, tuple(regions) if regions is not None else None,
                     institution_id)
    return list(session.scalars(_results(assessment_id, f).order_by(*RESULT_ORDER.order_by())))


def results_page(session: Session, assessment_id: int, f: ResultFilter, ask: PageRequest
                 ) -> Page[AssessmentResult]:
    """One year's results under ``f`` by group and rank, counted (one row per institution)."""
    return fetch(session, _results(assessment_id, f), RESULT_ORDER, ask, counted=True)


def outcomes_of(session: Session, assessment_id: int, f: ResultFilter) -> dict[str, int]:
    """How many of the year's results under ``f`` have each outcome in force."""
    q = _results(assessment_id, f).with_only_columns(AssessmentResult.outcome, func.count()
                                                     ).group_by(AssessmentResult.outcome)
    found: dict[str, int] = dict(session.execute(q).all())
    return {o.value: found.get(o.value, 0) for o in Outcome}


def result(session: Session, assessment_id: int, institution_id: str) -> AssessmentResult:
    found = session.scalar(select(AssessmentResult).where(
        AssessmentResult.assessment_id == assessment_id,
        AssessmentResult.institution_id == institution_id))
    if found is None:
        raise NotFound(f"{institution_id} was not assessed in this year / 该机构未参加本年度考核")
    return found


def events(session: Session, assessment_id: int, institution_id: str | None = None
           ) -> list[AssessmentEvent]:
    q = select(AssessmentEvent).where(AssessmentEvent.assessment_id == assessment_id)
    if institution_id is not None:
        q = q.where(AssessmentEvent.institution_id == institution_id)
    return list(session.scalars(q.order_by(AssessmentEvent.id)))


@dataclass(frozen=True)
class AppealFilter:
    institution_id: str | None = None
    state: str | None = None
    regions: tuple[str, ...] | None = None  # the appellant institutions' regions; None: all


def _appeals(assessment_id: int, f: AppealFilter) -> Select[tuple[AssessmentAppeal]]:
    q = select(AssessmentAppeal).where(AssessmentAppeal.assessment_id == assessment_id)
    if f.institution_id is not None:
        q = q.where(AssessmentAppeal.institution_id == f.institution_id)
    if f.state is not None:
        q = q.where(AssessmentAppeal.state == f.state)
    if f.regions is not None:
        q = q.where(AssessmentAppeal.institution_id.in_(
            select(AssessmentResult.institution_id).where(
                AssessmentResult.assessment_id == assessment_id,
                AssessmentResult.region.in_(f.regions))))
    return q


def appeals(session: Session, assessment_id: int, institution_id: str | None = None,
            state: str | None = None) -> list[AssessmentAppeal]:
    return list(session.scalars(_appeals(assessment_id, AppealFilter(institution_id, state))
                                .order_by(*APPEAL_ORDER.order_by())))


def appeals_page(session: Session, assessment_id: int, f: AppealFilter, ask: PageRequest
                 ) -> Page[AssessmentAppeal]:
    """The year's appeals under ``f`` in filing order, counted."""
    return fetch(session, _appeals(assessment_id, f), APPEAL_ORDER, ask, counted=True)


def trend(session: Session, institution_id: str, published_only: bool
          ) -> list[tuple[Assessment, AssessmentResult]]:
    """The institution's result in every assessment, oldest first."""
    q = (select(Assessment, AssessmentResult)
         .join(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
         .where(AssessmentResult.institution_id == institution_id).order_by(Assessment.year))
    if published_only:
        q = q.where(Assessment.state == AssessmentState.published.value)
    return [(a, r) for a, r in session.execute(q)]


def indicator_scores(r: AssessmentResult) -> list[IndicatorScore]:
    return [IndicatorScore(**line) for line in r.indicators]


def indicator_system(a: Assessment) -> list[Indicator]:
    return [Indicator(**d) for d in a.indicator_system]


def listed_institutions(session: Session, on: date) -> set[str]:
    """Institutions on the dishonesty list (a case listed, not repaired or removed) by ``on``.
    The list is a decision in force, so a draft made after the year's end counts a listing
    made since; the draft records which institutions it counted."""
    rows = session.scalars(select(Case.subject_id).where(
        Case.subject_kind == "institution", Case.state.in_([s.value for s in ON_LIST]),
        Case.listed_on <= on))
    return set(rows)


def statuses(session: Session, before_year: int | None = None
             ) -> dict[str, InstitutionStatusRecord]:
    """Each institution's status of record: the latest decision on its latest assessment year
    (of the years before ``before_year``, if given), so an appeal decided late on an older
    year does not undo a newer year's outcome."""
    q = select(InstitutionStatusRecord)
    if before_year is not None:
        q = q.where(InstitutionStatusRecord.year < before_year)
    latest: dict[str, InstitutionStatusRecord] = {}
    for row in session.scalars(q.order_by(InstitutionStatusRecord.year,
                                          InstitutionStatusRecord.id)):
        latest[row.institution_id] = row
    return latest


def institution_scores(session: Session, through: date) -> pd.DataFrame:
    """The stored institution scores dated by ``through`` (``entity_id``, ``as_of``,
    ``points``), the newest row per date winning."""
    rows = session.execute(select(Score.entity_id, Score.as_of, Score.points).where(
        Score.entity_kind == "institution", Score.as_of <= through).order_by(Score.id)).all()
    frame = pd.DataFrame(rows, columns=["entity_id", "as_of", "points"])
    return frame.drop_duplicates(["entity_id", "as_of"], keep="last")


def credit_standings(session: Session) -> dict[str, CreditStanding]:
    """Each scored institution's latest score (the latest as-of, the newest row of it) and
    the warning of that date, if any: what the assessors see beside the indicators. The
    latest, not the year's end: like a listing, a score is a judgement in force."""
    latest = (select(Score.entity_id, func.max(Score.as_of).label("day"))
              .where(Score.entity_kind == "institution").group_by(Score.entity_id).subquery())
    scores = session.execute(select(Score).join(
        latest, (Score.entity_id == latest.c.entity_id) & (Score.as_of == latest.c.day))
        .where(Score.entity_kind == "institution").order_by(Score.id)).scalars()
    newest = {s.entity_id: s for s in scores}
    warned = session.execute(select(RiskWarning).where(
        RiskWarning.entity_kind == "institution",
        RiskWarning.as_of.in_({s.as_of for s in newest.values()})).order_by(RiskWarning.id)
    ).scalars()
    warnings = {(w.entity_id, w.as_of): w for w in warned}
    out = {}
    for i, s in newest.items():
        w = warnings.get((i, s.as_of))
        out[i] = CreditStanding(
            s.as_of.isoformat(), float(s.points), s.grade, f"{s.model_name} v{s.model_version}",
            w.tier if w else None, tuple(w.reason_codes) if w else (),
            tuple(w.reasons_zh) if w else (), tuple(w.reasons_en) if w else ())
    return out


def credit_of(r: AssessmentResult) -> CreditStanding | None:
    return CreditStanding.from_record(r.credit)


def flagged(rows: Iterable[AssessmentResult]) -> list[AssessmentResult]:
    """The results whose outcome in force passes an institution with grade D or a red
    warning: publishing needs a written reason for each."""
    return [r for r in rows if needs_reason(r.outcome, credit_of(r))]


def write_draft(session: Session, proposal: Proposal, indicators: Sequence[Indicator],
                actor: Actor, now: datetime, detail: dict[str, Any]) -> tuple[Assessment, bool]:
    """Store the proposal as the year's draft, each result with the institution's credit
    standing read in the same transaction; True when it replaced an earlier draft."""
    a = by_year(session, proposal.year)
    if a is not None and a.state == AssessmentState.published.value:
        raise Conflict("published", f"the assessment of {proposal.year} is published: it "
                       "changes only through appeals / 该年度考核已发布，只能通过申诉变更")
    replaced = a is not None
    if a is None:
        a = Assessment(year=proposal.year, state=AssessmentState.draft.value,
                       created_at=now)
        session.add(a)
    else:
        session.execute(delete(AssessmentResult).where(AssessmentResult.assessment_id == a.id))
    a.config_version, a.config_sha256 = proposal.config_version, proposal.config_sha256
    a.quota, a.created_by, a.created_at = proposal.quota, actor.user, now
    a.indicator_system = [asdict(i) for i in indicators]
    a.updated_by, a.updated_at = actor.user, now
    session.flush()
    credit = credit_standings(session)
    rows = [_row(a.id, r, credit.get(r.standing.institution_id)) for r in proposal.results]
    session.add_all(rows)
    session.add(AssessmentEvent(
        assessment_id=a.id, kind=EventKind.run.value, actor=actor.user, role=actor.role, at=now,
        reason="replaced the draft / 重新生成草稿" if replaced else None,
        detail={**detail, "counts": proposal.counts(), "version": a.version,
                "flagged": [r.institution_id for r in flagged(rows)]}))
    session.flush()
    return a, replaced


def _row(assessment_id: int, r: InstitutionResult, credit: CreditStanding | None
         ) -> AssessmentResult:
    s = r.standing
    return AssessmentResult(
        assessment_id=assessment_id, institution_id=s.institution_id, name=s.name,
        institution_type=s.institution_type, region=s.region, tier=s.tier, group_key=s.group,
        group_size=s.group_size, rank=s.rank, total=s.total, report_year=s.report_year,
        failed=r.failed, model_outcome=r.outcome, outcome=r.outcome, basis=list(r.basis),
        reasons_zh=list(r.reasons_zh), reasons_en=list(r.reasons_en),
        indicators=[asdict(line) for line in s.indicators],
        credit=_json(credit) if credit is not None else None)


def _json(credit: CreditStanding) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(credit).items()}


def record_status(session: Session, a: Assessment, institution_id: str, outcome: str,
                  actor: Actor, now: datetime, basis: str) -> InstitutionStatusRecord:
    row = InstitutionStatusRecord(institution_id=institution_id, status=STATUS_OF[outcome],
                                  since=now, year=a.year, assessment_id=a.id, basis=basis,
                                  decided_by=actor.user)
    session.add(row)
    return row


def open_appeal(session: Session, assessment_id: int, institution_id: str
                ) -> AssessmentAppeal | None:
    return session.scalar(select(AssessmentAppeal).where(
        AssessmentAppeal.assessment_id == assessment_id,
        AssessmentAppeal.institution_id == institution_id,
        AssessmentAppeal.state == AppealState.filed.value))
