"""``/assessments``: the annual assessment's drafts and published results, the assessors'
adjustments and publication (four-eyes), and appeals against published outcomes.

An institution sees only its own result and only once published; a regulator limited to
regions sees those regions. Decisions are committed with their event and audit entry in one
transaction (``service.core.assessments.service``); a refused decision is a 409 naming the rule,
audited as refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from service.core.assessments import records, service
from service.core.assessments.answers import appeal_out, assessment_out, result_out, row_out
from service.core.assessments.schemas import (
    AdjustIn,
    AppealIn,
    AppealOut,
    AssessmentOut,
    DecideIn,
    OutcomeName,
    PublishIn,
    ResultOut,
    YearOut,
)
from service.core.assessments.tables import Assessment, AssessmentState
from service.core.context import ServiceContext
from service.core.db.audit import AuditRecord
from service.core.db.tokens import Principal
from service.core.db.types import Role
from service.core.inputs import ENTITY_ID
from service.core.paging import PageOut
from service.core.permissions import entity_denial, region_filter
from service.web.deps import (
    AssessmentAppellant,
    AssessmentReader,
    Assessor,
    Ctx,
    SessionDep,
    deny,
    journal,
    record,
)
from service.web.paging import Paged

router = APIRouter(tags=["assessments 年度考核"])
Year = Annotated[int, Path(ge=1990, le=2100, description="the assessed year")]
InstitutionId = Annotated[str, Path(pattern=ENTITY_ID, description="institution id")]
READ = "read_assessments"


def _actor(principal: Principal) -> records.Actor:
    return records.Actor(principal.user, principal.role.value)


def _hidden(principal: Principal, a: Assessment) -> bool:
    """An institution does not see a draft at all."""
    return principal.role == Role.institution and a.state != AssessmentState.published.value


def _year(session: Session, principal: Principal, year: int) -> Assessment:
    a = records.by_year(session, year)
    if a is None or _hidden(principal, a):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no published assessment of {year} / 无该年度已发布考核")
    return a


async def _scope(ctx: ServiceContext, request: Request, principal: Principal, action: str,
                 institution_id: str, region: str | None) -> None:
    reason = entity_denial(principal, "institution", institution_id, region)
    if reason is not None:
        raise await deny(ctx, request, principal, action, status.HTTP_403_FORBIDDEN, reason,
                         "institution", institution_id)


async def _decide(ctx: ServiceContext, request: Request, principal: Principal, action: str,
                  institution_id: str | None, year: int,
                  work: Callable[[Session], service.Decision]) -> service.Decision:
    """Run a decision in a worker thread: its rows and audit entry in one transaction; a
    refusal is audited and answered 409 (404 for what does not exist)."""
    def audits(d: service.Decision) -> list[AuditRecord]:
        e = d.event
        return [record(request, principal, action, "ok", "institution" if e.institution_id
                       else None, e.institution_id, {
                           "year": year, "event_id": e.id, "before": e.before,
                           "after": e.after, "reason": e.reason, "version": d.assessment.version,
                           "appeal_id": e.appeal_id, "statuses": d.statuses,
                           **({"pass_reasons": e.detail["pass_reasons"]}
                              if e.detail.get("pass_reasons") else {})})]
    try:
        return await asyncio.to_thread(service.transact, ctx.sessions, work, audits)
    except records.NotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    except records.Conflict as e:
        await journal(ctx, request, audits=[record(
            request, principal, action, "refused", "institution" if institution_id else None,
            institution_id, {"year": year, "rule": e.rule, "message": str(e)})])
        raise HTTPException(status.HTTP_409_CONFLICT, {"rule": e.rule, "message": str(e)}
                            ) from None


@router.get("/assessments", response_model=PageOut[AssessmentOut])
async def list_assessments(principal: AssessmentReader, ctx: Ctx, session: SessionDep,
                           request: Request, paged: Paged) -> PageOut[AssessmentOut]:
    """Every year's assessment, newest first (an institution: published ones only)."""
    found = records.assessments_page(session, principal.role == Role.institution, paged)
    counts = records.outcome_counts(session)
    out = PageOut[AssessmentOut].of(found, lambda a: assessment_out(
        a, counts.get(a.id, {}), ctx.settings.assessment.appeal_days))
    await journal(ctx, request, audits=[record(request, principal, READ, "ok",
                                               detail={"rows": len(out.items)})])
    return out


@router.get("/assessments/{year}", response_model=YearOut)
async def year_results(
    year: Year, principal: AssessmentReader, ctx: Ctx, session: SessionDep, request: Request,
    paged: Paged,
    group: Annotated[str | None, Query(max_length=80, pattern=r"^[a-z_/]+$")] = None,
    outcome: OutcomeName | None = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> YearOut:
    """One year's results by group and rank, filtered by group, outcome and region, a page at
    a time, with the year's assessment."""
    a = _year(session, principal, year)
    regions = region_filter(principal)
    if region is not None:
        if regions is not None and region not in regions:
            raise await deny(ctx, request, principal, READ, status.HTTP_403_FORBIDDEN,
                             f"region {region} is outside this token's regions / 超出授权地区")
        regions = (region,)
    own = principal.institution_id if principal.role == Role.institution else None
    found = records.results_page(session, a.id, records.ResultFilter(group, outcome, regions,
                                                                     own), paged)
    counts = records.outcome_counts(session).get(a.id, {})
    flagged = len(records.flagged(records.results(session, a.id, regions=regions,
                                                  institution_id=own)))
    out = YearOut.of(found, row_out, assessment=assessment_out(
        a, counts, ctx.settings.assessment.appeal_days), flagged=flagged)
    await journal(ctx, request, audits=[record(request, principal, READ, "ok", detail={
        "year": year, "rows": len(found.items), "query": str(request.url.query)[:500]})])
    return out


@router.get("/assessments/{year}/results/{institution_id}", response_model=ResultOut)
async def institution_result(year: Year, institution_id: InstitutionId,
                             principal: AssessmentReader, ctx: Ctx, session: SessionDep,
                             request: Request) -> ResultOut:
    """One institution's result: every indicator against its group, the decisions taken on
    it, its appeals and its results over the years."""
    a = _year(session, principal, year)
    try:
        r = records.result(session, a.id, institution_id)
    except records.NotFound as e:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(e)) from None
    await _scope(ctx, request, principal, READ, institution_id, r.region)
    out = result_out(session, a, r, published_only=principal.role == Role.institution)
    await journal(ctx, request, audits=[record(request, principal, READ, "ok", "institution",
                                               institution_id, {"year": year})])
    return out


@router.post("/assessments/{year}/results/{institution_id}/adjust", response_model=ResultOut)
async def adjust(year: Year, institution_id: InstitutionId, body: AdjustIn, principal: Assessor,
                 ctx: Ctx, session: SessionDep, request: Request) -> ResultOut:
    """Change a draft outcome with a recorded reason; the model's proposal stays beside it."""
    session.close()
    await _decide(ctx, request, principal, "assessment.adjust", institution_id, year,
                  lambda s: service.adjust(s, year, institution_id, body.outcome, body.reason,
                                           _actor(principal), body.version, ctx.clock()))
    with ctx.readers() as fresh:
        a = records.require(fresh, year)
        return result_out(fresh, a, records.result(fresh, a.id, institution_id), False)


@router.post("/assessments/{year}/publish", response_model=AssessmentOut)
async def publish(year: Year, body: PublishIn, principal: Assessor, ctx: Ctx,
                  session: SessionDep, request: Request) -> AssessmentOut:
    """Publish the draft (four-eyes: not by who ran or adjusted it), with a written reason
    for each institution that passes despite grade D or a red warning (409
    ``reason_required`` names those without one); outcomes become the institutions' statuses
    of record and may then be appealed."""
    session.close()
    d = await _decide(ctx, request, principal, "assessment.publish", None, year,
                      lambda s: service.publish(s, year, _actor(principal), body.version,
                                                ctx.clock(), body.reasons))
    await ctx.scores.refresh()  # statuses of record show beside scores at once
    with ctx.readers() as fresh:
        counts = records.outcome_counts(fresh).get(d.assessment.id, {})
    return assessment_out(d.assessment, counts, ctx.settings.assessment.appeal_days)


@router.get("/assessments/{year}/appeals", response_model=PageOut[AppealOut])
async def list_appeals(year: Year, principal: AssessmentReader, ctx: Ctx, session: SessionDep,
                       request: Request, paged: Paged,
                       state: Literal["filed", "upheld", "rejected"] | None = None
                       ) -> PageOut[AppealOut]:
    """Appeals of the year in filing order (an institution: its own; a regional regulator:
    those of its regions' institutions)."""
    a = _year(session, principal, year)
    own = principal.institution_id if principal.role == Role.institution else None
    found = records.appeals_page(session, a.id, records.AppealFilter(
        own, state, region_filter(principal)), paged)
    await journal(ctx, request, audits=[record(request, principal, READ, "ok", detail={
        "year": year, "appeals": len(found.items)})])
    return PageOut[AppealOut].of(found, lambda p: appeal_out(p, year))


@router.post("/assessments/{year}/appeals", response_model=AppealOut,
             status_code=status.HTTP_201_CREATED)
async def file_appeal(year: Year, body: AppealIn, principal: AssessmentAppellant, ctx: Ctx,
                      session: SessionDep, request: Request) -> AppealOut:
    """Appeal a published outcome: the institution itself or a regulator, within the appeal
    window after publication."""
    a = _year(session, principal, year)
    found = records.results(session, a.id, institution_id=body.institution_id)
    await _scope(ctx, request, principal, "assessment.appeal", body.institution_id,
                 found[0].region if found else None)  # an unassessed one: 404 from the decision
    session.close()
    d = await _decide(ctx, request, principal, "assessment.appeal", body.institution_id, year,
                      lambda s: service.file_appeal(
                          s, year, body.institution_id, body.reason, body.requested_outcome,
                          _actor(principal), ctx.clock(), ctx.settings.assessment.appeal_days))
    assert d.appeal is not None
    return appeal_out(d.appeal, year)


@router.post("/assessments/{year}/appeals/{appeal_id}/decide", response_model=AppealOut)
async def decide_appeal(year: Year, appeal_id: Annotated[int, Path(ge=1, le=2**62)],
                        body: DecideIn, principal: Assessor, ctx: Ctx, session: SessionDep,
                        request: Request) -> AppealOut:
    """Decide an appeal (not by the publisher): upheld changes the outcome and the
    institution's status, rejected keeps them."""
    session.close()
    d = await _decide(ctx, request, principal, "assessment.decide_appeal", None, year,
                      lambda s: service.decide_appeal(
                          s, year, appeal_id, body.decision == "upheld", body.outcome,
                          body.reason, _actor(principal), ctx.clock()))
    await ctx.scores.refresh()
    with ctx.readers() as fresh:
        appeal = records.appeals(fresh, d.assessment.id)
    return appeal_out(next(p for p in appeal if p.id == appeal_id), year)
