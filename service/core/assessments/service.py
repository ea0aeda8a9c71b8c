"""The decisions on an assessment, each one transaction with its audit entries.

People decide, never the model: an assessor adjusts a draft's outcomes with a recorded reason;
a *different* assessor publishes it (four-eyes: not the one who ran the draft, nor anyone who
adjusted it), with a written reason for every pass of an institution whose latest grade is D
or that carries a red warning (:mod:`models.assessment.credit`); publishing turns each outcome
into the institution's status of record (exit → exited, warning → warned, pass → active);
the institution or a regulator appeals a published outcome within the appeal window; an
assessor other than the publisher decides the appeal, and an upheld appeal changes the outcome
and the status. Every refusal names its rule (HTTP 409).

Concurrency: the year's ``version`` is checked against the one the client saw and again by
the UPDATE itself (SQLAlchemy's version counter), so of two concurrent adjustments or
publications one wins and the other is a ``stale_version`` conflict; an appeal is decided by
an UPDATE that only matches while it is still open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models.assessment.credit import MIN_REASON, concern_text, reason_ok
from service.core.assessments import records
from service.core.assessments.records import Actor, Conflict, NotFound
from service.core.assessments.tables import (
    OUTCOME_ZH,
    AppealState,
    Assessment,
    AssessmentAppeal,
    AssessmentEvent,
    AssessmentResult,
    AssessmentState,
    EventKind,
    Outcome,
)
from service.core.db.audit import AuditRecord, audited

T = TypeVar("T")


@dataclass(frozen=True)
class Decision:
    """What a decision changed, for the answer and the audit."""

    assessment: Assessment
    result: AssessmentResult | None
    event: AssessmentEvent
    appeal: AssessmentAppeal | None = None
    statuses: int = 0  # institution status rows written


def transact(sessions: sessionmaker[Session], work: Callable[[Session], T],
             audits: Callable[[T], Sequence[AuditRecord]]) -> T:
    """Run ``work`` and append its audit entries in one transaction."""
    try:
        return audited(sessions, work, audits)
    except StaleDataError:
        raise Conflict("stale_version", "another assessor changed the assessment at the same "
                       "time: reload it / 考核已被他人同时修改，请刷新") from None
    except IntegrityError:
        raise Conflict("appeal_open", "this outcome already has an open appeal / 该结果已有"
                       "未决申诉") from None


def _draft(session: Session, year: int, expected_version: int) -> Assessment:
    a = records.require(session, year)
    if a.state == AssessmentState.published.value:
        raise Conflict("published", f"the assessment of {year} is published: it changes only "
                       "through appeals / 该年度考核已发布，只能通过申诉变更")
    if a.version != expected_version:
        raise Conflict("stale_version", f"the assessment is at version {a.version}, not "
                       f"{expected_version}: reload it / 考核已被修改，请刷新")
    return a


def adjust(session: Session, year: int, institution_id: str, outcome: str, reason: str,
           actor: Actor, expected_version: int, now: datetime) -> Decision:
    a = _draft(session, year, expected_version)
    r = records.result(session, a.id, institution_id)
    if r.outcome == outcome:
        raise Conflict("no_change", f"the outcome is already {outcome} / 结果未变化")
    before = r.outcome
    r.outcome, r.adjusted_by, r.adjusted_at = outcome, actor.user, now
    a.updated_by, a.updated_at = actor.user, now
    event = AssessmentEvent(assessment_id=a.id, institution_id=institution_id,
                            kind=EventKind.adjust.value, actor=actor.user, role=actor.role,
                            at=now, reason=reason, before=before, after=outcome,
                            detail={"model_outcome": r.model_outcome})
    session.add(event)
    session.flush()
    return Decision(a, r, event)


def editors(session: Session, a: Assessment) -> set[str]:
    """Who ran the current draft or adjusted it since."""
    since = session.scalar(select(func.max(AssessmentEvent.id)).where(
        AssessmentEvent.assessment_id == a.id, AssessmentEvent.kind == EventKind.run.value))
    adjusted = session.scalars(select(AssessmentEvent.actor).where(
        AssessmentEvent.assessment_id == a.id, AssessmentEvent.kind == EventKind.adjust.value,
        AssessmentEvent.id > (since or 0)))
    return {a.created_by, *adjusted}


def _pass_reasons(rows: Sequence[AssessmentResult], given: Mapping[str, str]
                  ) -> dict[str, str]:
    """The written reason of every flagged pass (records.flagged), checked: none missing, none
    too short, none for an institution that is not flagged. Refusals name the institutions."""
    flagged = {r.institution_id: r for r in records.flagged(rows)}
    extra = sorted(set(given) - set(flagged))
    if extra:
        raise Conflict("reason_not_needed", f"no reason is needed for {', '.join(extra)}: "
                       "only a pass with grade D or a red warning takes one / 仅对信用等级D或"
                       "红色预警而考核通过的机构填写理由")
    short = sorted(i for i, text in given.items() if not reason_ok(text))
    if short:
        raise Conflict("reason_too_short", f"the reason for {', '.join(short)} is shorter than "
                       f"{MIN_REASON} characters / 通过理由不少于{MIN_REASON}个字")
    missing = [r for i, r in flagged.items() if i not in given]
    if missing:
        named = "; ".join(f"{r.institution_id} {r.name} ({concern_text(c, 'en')})"
                          for r in missing if (c := records.credit_of(r)) is not None)
        raise Conflict("reason_required", f"{len(missing)} institution(s) pass despite grade D "
                       f"or a red warning: {named}. Give a written reason for each "
                       f"(≥ {MIN_REASON} characters) or change the outcome / 信用等级D或红色预警"
                       "的机构考核通过，须逐一填写通过理由或调整结果")
    return {i: given[i].strip() for i in flagged}


def publish(session: Session, year: int, actor: Actor, expected_version: int,
            now: datetime, reasons: Mapping[str, str] | None = None) -> Decision:
    """Publish the draft. ``reasons``: institution id → why it passes despite grade D or a
    red warning, one for each such pass (kept with the result and the event)."""
    a = _draft(session, year, expected_version)
    if actor.user in editors(session, a):
        raise Conflict("four_eyes", "the publisher must be someone other than who ran or "
                       f"adjusted the draft ({', '.join(sorted(editors(session, a)))}) / "
                       "四眼原则：发布人不得为草稿生成人或调整人")
    rows = records.results(session, a.id)
    written = _pass_reasons(rows, reasons or {})
    a.state, a.published_by, a.published_at = AssessmentState.published.value, actor.user, now
    a.updated_by, a.updated_at = actor.user, now
    for r in rows:
        r.pass_reason = written.get(r.institution_id)
        records.record_status(session, a, r.institution_id, r.outcome, actor, now,
                            f"assessment {a.year} published, outcome {r.outcome} / "
                            f"{a.year}年度考核发布，结果{OUTCOME_ZH[Outcome(r.outcome)]}")
    counts = {o: sum(r.outcome == o for r in rows) for o in records.STATUS_OF}
    event = AssessmentEvent(assessment_id=a.id, kind=EventKind.publish.value, actor=actor.user,
                            role=actor.role, at=now,
                            detail={"counts": counts, "pass_reasons": written})
    session.add(event)
    session.flush()
    return Decision(a, None, event, statuses=len(rows))


def file_appeal(session: Session, year: int, institution_id: str, reason: str,
                requested: str | None, actor: Actor, now: datetime, window_days: int
                ) -> Decision:
    a = records.require(session, year)
    if a.state != AssessmentState.published.value or a.published_at is None:
        raise Conflict("not_published", "only a published outcome can be appealed / "
                       "仅可对已发布的考核结果申诉")
    deadline = a.published_at + timedelta(days=window_days)
    if now > deadline:
        raise Conflict("appeal_window_closed", f"appeals closed on {deadline:%Y-%m-%d %H:%M} "
                       f"UTC ({window_days} days after publication) / 申诉期已过")
    r = records.result(session, a.id, institution_id)
    if records.open_appeal(session, a.id, institution_id) is not None:
        raise Conflict("appeal_open", "this outcome already has an open appeal / 该结果已有"
                       "未决申诉")
    appeal = AssessmentAppeal(
        assessment_id=a.id, institution_id=institution_id, state=AppealState.filed.value,
        open_key=f"{a.id}:{institution_id}", filed_by=actor.user, filed_at=now, reason=reason,
        requested_outcome=requested, deadline=deadline, outcome_before=r.outcome)
    session.add(appeal)
    session.flush()
    event = AssessmentEvent(assessment_id=a.id, institution_id=institution_id,
                            kind=EventKind.appeal.value, actor=actor.user, role=actor.role,
                            at=now, reason=reason, before=r.outcome, after=requested,
                            appeal_id=appeal.id, detail={})
    session.add(event)
    session.flush()
    return Decision(a, r, event, appeal)


def decide_appeal(session: Session, year: int, appeal_id: int, upheld: bool,
                  outcome: str | None, reason: str, actor: Actor, now: datetime) -> Decision:
    a = records.require(session, year)
    appeal = session.get(AssessmentAppeal, appeal_id)
    if appeal is None or appeal.assessment_id != a.id:
        raise NotFound(f"no appeal {appeal_id} in the assessment of {year} / 无此申诉")
    if appeal.state != AppealState.filed.value:
        raise Conflict("appeal_decided", f"appeal {appeal_id} was decided ({appeal.state}) / "
                       "申诉已处理")
    if actor.user in (a.published_by, appeal.filed_by):
        raise Conflict("four_eyes", "an appeal is decided by someone other than the publisher "
                       "and the appellant / 四眼原则：申诉须由发布人和申诉人以外的人处理")
    r = records.result(session, a.id, appeal.institution_id)
    before = r.outcome
    if upheld:
        if outcome is None or outcome == before:
            raise Conflict("upheld_needs_outcome", "an upheld appeal names the new outcome, "
                           f"other than {before} / 申诉成立须给出新的考核结果")
        r.outcome, r.adjusted_by, r.adjusted_at = outcome, actor.user, now
        records.record_status(session, a, r.institution_id, outcome, actor, now,
                            f"appeal {appeal_id} upheld: outcome {before} → {outcome} / "
                            f"申诉成立，结果由{before}改为{outcome}")
    elif outcome is not None:
        raise Conflict("rejected_keeps_outcome", "a rejected appeal keeps the outcome: give no "
                       "outcome / 申诉不成立不改变结果")
    state = AppealState.upheld if upheld else AppealState.rejected
    moved = session.execute(
        update(AssessmentAppeal).where(AssessmentAppeal.id == appeal_id,
                                       AssessmentAppeal.state == AppealState.filed.value)
        .values(state=state.value, open_key=None, decided_by=actor.user, decided_at=now,
                decision_reason=reason, outcome_after=r.outcome)
        .execution_options(synchronize_session="fetch"))
    if moved.rowcount != 1:
        raise Conflict("appeal_decided", f"appeal {appeal_id} was decided at the same time / "
                       "申诉已被他人同时处理")
    event = AssessmentEvent(assessment_id=a.id, institution_id=appeal.institution_id,
                            kind=EventKind.decide.value, actor=actor.user, role=actor.role,
                            at=now, reason=reason, before=before, after=r.outcome,
                            appeal_id=appeal_id, detail={"decision": state.value})
    session.add(event)
    session.flush()
    return Decision(a, r, event, appeal, statuses=int(upheld))
