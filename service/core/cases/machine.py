"""The case state machine, declared as data: which action moves a case from which states to
which, who may take it, whether it needs a second person, and the time rules it must pass.

Separation of duties is part of the table: a determination is made by two people, and so is
every decision that reverses or lifts one (overturn, repair, removal), so no single person can
take a case from determined to an end state; and whoever acted on the subject's side of a
case (an objection or a repair request, also when filed on the subject's behalf) decides no
later step of it.

Everything here is pure (facts and a day in, a decision out), so every path, refusal and
deadline is tested without a server; ``service.core.cases.records`` applies a decision to the
database under optimistic locking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import STATE_LABELS, CaseState, Severity
from service.core.cases.policy import CasePolicy

S = CaseState


class Action(StrEnum):
    investigate = "investigate"
    dismiss = "dismiss"
    determine = "determine"
    notify = "notify"
    object = "object"
    uphold = "uphold"
    overturn = "overturn"
    list = "list"
    request_repair = "request_repair"
    repair = "repair"
    deny_repair = "deny_repair"
    remove = "remove"
    expire = "expire"  # the system, when the publication period ends


class Party(StrEnum):
    officer = "officer"  # a regulator working the case
    subject = "subject"  # the subject itself, or a regulator recording its paper filing
    system = "system"


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about a case."""

    state: CaseState
    severity: Severity | None = None
    decided_on: date | None = None
    objection_due: date | None = None
    repair_from: date | None = None
    publication_ends: date | None = None
    pending_action: str | None = None
    pending_by: str | None = None
    subject_side: frozenset[str] = frozenset()  # who acted on the subject's side so far


@dataclass(frozen=True)
class Refusal:
    rule: str
    zh: str
    en: str

    @property
    def message(self) -> str:
        return f"{self.en} / {self.zh}"


Guard = Callable[[CaseFacts, date], Refusal | None]


def objection_window_closed(f: CaseFacts, today: date) -> Refusal | None:
    if f.objection_due is not None and today <= f.objection_due:
        return Refusal("objection_window_open",
                       f"异议期至 {f.objection_due} 届满，届满前不得列入失信名单",
                       f"the objection window runs until {f.objection_due}: listing before "
                       "it closes is refused")
    return None


def objection_window_open(f: CaseFacts, today: date) -> Refusal | None:
    if f.objection_due is not None and today > f.objection_due:
        return Refusal("objection_window_closed", f"异议期已于 {f.objection_due} 届满",
                       f"the objection window closed on {f.objection_due}")
    return None


def repair_period_reached(f: CaseFacts, today: date) -> Refusal | None:
    if f.repair_from is not None and today < f.repair_from:
        return Refusal("repair_too_early",
                       f"最短公示期未满，{f.repair_from} 起方可申请信用修复",
                       f"the minimum publication period has not passed: repair may be "
                       f"applied for from {f.repair_from}")
    return None


def publication_over(f: CaseFacts, today: date) -> Refusal | None:
    if f.publication_ends is None or today < f.publication_ends:
        return Refusal("publication_running", "公示期未届满", "the publication period is running")
    return None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[CaseState]
    target: CaseState
    party: Party
    zh: str
    en: str
    four_eyes: bool = False  # proposed by one person, approved by another
    requires: tuple[str, ...] = ("reason",)  # request fields that must be given
    guards: tuple[Guard, ...] = ()


def _t(action: Action, sources: set[CaseState], target: CaseState, party: Party, zh: str,
       en: str, **kw: object) -> Transition:
    return Transition(action, frozenset(sources), target, party, zh, en, **kw)  # type: ignore[arg-type]


OFFICER, SUBJECT = Party.officer, Party.subject
TRANSITIONS: tuple[Transition, ...] = (
    _t(Action.investigate, {S.flagged}, S.investigating, OFFICER, "立案核查", "investigate"),
    _t(Action.dismiss, {S.flagged, S.investigating}, S.dismissed, OFFICER, "不予认定", "dismiss"),
    _t(Action.determine, {S.investigating}, S.determined, OFFICER, "认定失信行为", "determine",
       four_eyes=True, requires=("reason", "conduct", "severity", "basis", "decision_number")),
    _t(Action.notify, {S.determined}, S.notified, OFFICER, "告知当事人", "notify the subject"),
    _t(Action.object, {S.notified}, S.objection, SUBJECT, "提出异议", "object",
       guards=(objection_window_open,)),
    _t(Action.uphold, {S.objection}, S.upheld, OFFICER, "异议不成立，维持认定", "uphold"),
    _t(Action.overturn, {S.objection}, S.overturned, OFFICER, "异议成立，撤销认定", "overturn",
       four_eyes=True),
    _t(Action.list, {S.notified, S.upheld}, S.listed, OFFICER, "列入失信名单", "list",
       four_eyes=True, guards=(objection_window_closed,)),
    _t(Action.request_repair, {S.listed, S.repair_denied}, S.repair_requested, SUBJECT,
       "申请信用修复", "apply for credit repair",
       requires=("reason", "remediation", "commitment", "evidence_files"),
       guards=(repair_period_reached,)),
    _t(Action.repair, {S.repair_requested}, S.repaired, OFFICER, "准予信用修复", "grant repair",
       four_eyes=True),
    _t(Action.deny_repair, {S.repair_requested}, S.repair_denied, OFFICER, "不予信用修复",
       "deny repair"),
    _t(Action.remove, {S.repaired}, S.removed, OFFICER, "移出失信名单", "remove from the list",
       four_eyes=True),
    _t(Action.expire, {S.listed, S.repair_requested, S.repair_denied}, S.removed, Party.system,
       "公示期届满移出", "publication period ended", requires=(), guards=(publication_over,)),
)
BY_ACTION: dict[Action, Transition] = {t.action: t for t in TRANSITIONS}


@dataclass(frozen=True)
class Apply:
    transition: Transition
    proposed_by: str | None = None  # the first person of a four-eyes step


@dataclass(frozen=True)
class Propose:
    transition: Transition


Decision = Apply | Propose | Refusal


def plan(f: CaseFacts, action: Action, actor: str, today: date) -> Decision:
    """What ``actor`` asking for ``action`` today leads to. A four-eyes step is proposed by
    the first person and applied when a second, different person asks for the same action."""
    t = BY_ACTION[action]
    if f.state not in t.sources:
        allowed = ", ".join(sorted(s.value for s in t.sources))
        return Refusal("transition_not_allowed",
                       f"案件处于“{STATE_LABELS[f.state][0]}”状态，不能执行“{t.zh}”",
                       f"a case in state {f.state.value!r} cannot {t.en}: it is allowed from "
                       f"{allowed}")
    if t.party == Party.officer and actor in f.subject_side:
        return Refusal("separation_of_duties",
                       f"{actor} 已代表当事人办理本案事项，不得决定本案后续步骤“{t.zh}”",
                       f"separation of duties: {actor} acted on the subject's side of this "
                       f"case and may not decide a later step ({t.en})")
    for guard in t.guards:
        refused = guard(f, today)
        if refused is not None:
            return refused
    if not t.four_eyes:
        return Apply(t)
    if f.pending_action != action.value:
        return Propose(t)
    if f.pending_by == actor:
        return Refusal("four_eyes", f"“{t.zh}”须由另一人批准，提出人不能自行批准",
                       f"four eyes: {t.en} proposed by {actor} must be approved by someone else")
    return Apply(t, proposed_by=f.pending_by)


def available(f: CaseFacts, today: date) -> list[Action]:
    """The actions a person could take now (the console's buttons)."""
    return [t.action for t in TRANSITIONS if t.party != Party.system
            and not isinstance(plan(f, t.action, "", today), Refusal)]


@dataclass(frozen=True)
class Changes:
    """Fields a transition sets beside the state."""

    decided_on: date | None = None
    notice_on: date | None = None
    objection_due: date | None = None
    objection_on: date | None = None
    answer_due: date | None = None
    listed_on: date | None = None
    repair_from: date | None = None
    publication_ends: date | None = None
    published: bool | None = None
    repair_due: date | None = None
    deadline_provisional: bool = False  # counted over a year whose holidays are unpublished
    lift_measures: bool = False  # repair and removal end joint punishment


def consequences(t: Transition, f: CaseFacts, severity: Severity | None, today: date,
                 policy: CasePolicy, calendar: WorkCalendar) -> Changes:
    """The dates a transition fixes: windows in working days, publication from the decision."""
    a = t.action
    if a == Action.determine:
        return Changes(decided_on=today)
    if a == Action.notify:
        due = calendar.add_workdays(today, policy.objection_workdays)
        return Changes(notice_on=today, objection_due=due.day,
                       deadline_provisional=due.provisional)
    if a == Action.object:
        due = calendar.add_workdays(today, policy.answer_workdays)
        return Changes(objection_on=today, answer_due=due.day,
                       deadline_provisional=due.provisional)
    if a == Action.list:
        if severity is None or f.decided_on is None:
            raise ValueError("a case is listed only after a determination with a severity")
        pub = policy.publication(severity, f.decided_on)
        return Changes(listed_on=today, repair_from=pub.repair_from,
                       publication_ends=pub.ends, published=pub.published)
    if a == Action.request_repair:
        due = calendar.add_workdays(today, policy.repair_answer_workdays)
        return Changes(repair_due=due.day, deadline_provisional=due.provisional)
    if a in (Action.repair, Action.remove, Action.expire):
        return Changes(published=False, lift_measures=True)
    return Changes()
