"""The console's assessment page: a year's rankings and outcomes with their reasons, and each
institution's latest score, grade and warning beside them; a pass despite grade D or a red
warning is flagged, and the year's count of them shown."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from features.standard.enums import INSTITUTION_TYPE, REGION
from models.assessment.credit import needs_reason
from service.core.assessments import records as assessments
from service.core.db.types import Role
from service.core.paging import Page
from service.core.permissions import Permission, allowed
from service.web.console.messages import words
from service.web.console.render import page, pager, refuse
from service.web.console.session import PATH, ConsoleLang, ConsoleUser
from service.web.deps import Ctx, SessionDep, journal, record
from service.web.paging import Paged

router = APIRouter(prefix=PATH, include_in_schema=False)
OUTCOMES = ("pass", "warning", "exit")


@router.get("/assessments", response_class=HTMLResponse)
async def assessment_page(request: Request, ctx: Ctx, session: SessionDep, user: ConsoleUser,
                          lang: ConsoleLang, paged: Paged, year: int | None = None
                          ) -> HTMLResponse:
    """Rankings within comparable groups and outcomes of a year, with reasons, a page at a
    time; the outcome counts are the whole year's (an institution: its own)."""
    if not allowed(user, Permission.read_assessments):
        return await refuse(ctx, request, user, lang, "read_assessments",
                            f"role {user.role.value} may not read_assessments")
    published_only = user.role == Role.institution
    years = assessments.assessments(session, published_only)
    chosen = next((a for a in years if a.year == year), years[0] if years else None)
    f = assessments.ResultFilter(
        institution_id=(user.institution_id or "") if user.role == Role.institution else None)
    found = assessments.results_page(session, chosen.id, f, paged) if chosen else Page([], None)
    counts = assessments.outcomes_of(session, chosen.id, f) if chosen else {}
    flagged = len(assessments.flagged(assessments.results(
        session, chosen.id, institution_id=f.institution_id))) if chosen else 0
    w = words(lang)
    table = [{"id": r.institution_id, "name": r.name, "group": r.group_key, "rank": r.rank,
              "credit": (c := assessments.credit_of(r)),
              "flag": needs_reason(r.outcome, c), "pass_reason": r.pass_reason,
              "size": r.group_size, "total": r.total, "outcome": r.outcome,
              "outcome_label": w[f"outcome_{r.outcome}"],
              "adjusted": r.outcome != r.model_outcome,
              "type": INSTITUTION_TYPE.label(r.institution_type, lang),
              "region": REGION.label(r.region, lang),
              "reasons": r.reasons_zh if lang == "zh" else r.reasons_en}
             for r in found.items]
    await journal(ctx, request, audits=[record(request, user, "read_assessments", "ok",
                                               detail={"year": year, "console": True})])
    return page(request, "assessments.html", lang, user, w["assessments"],
                years=[a.year for a in years], a=chosen, rows=table,
                counts={k: counts.get(k, 0) for k in OUTCOMES}, flagged=flagged,
                outcome_names={k: w[f"outcome_{k}"] for k in OUTCOMES},
                pager=pager(request, found, year=chosen.year) if chosen else None)
