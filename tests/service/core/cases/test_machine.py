"""The transition table and its rules, without a database: every allowed move, every refusal,
four eyes, windows and publication periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from features.settings import CaseSettings, Settings
from service.core.cases.calendar import WorkCalendar
from service.core.cases.enums import CaseState, Severity
from service.core.cases.machine import (
    BY_ACTION,
    TRANSITIONS,
    Action,
    Apply,
    CaseFacts,
    Party,
    Propose,
    Refusal,
    available,
    consequences,
    plan,
)
from service.core.cases.policy import CasePolicy

S = CaseState
DAY = date(2026, 9, 28)
POLICY = CasePolicy.from_settings(Settings())


def test_every_state_but_the_closed_ones_has_a_way_out_and_every_state_is_reachable() -> None:
    reachable = {S.flagged} | {t.target for t in TRANSITIONS}
    assert reachable == set(S)
    leaving = {s for t in TRANSITIONS for s in t.sources}
    assert set(S) - leaving == {S.dismissed, S.overturned, S.removed}


@pytest.mark.parametrize("action", [a for a in Action if a != Action.expire])
def test_an_action_from_a_state_outside_its_sources_is_refused_naming_the_rule(
        action: Action) -> None:
    t = BY_ACTION[action]
    for state in set(S) - t.sources:
        decision = plan(CaseFacts(state), action, "u1", DAY)
        assert isinstance(decision, Refusal) and decision.rule == "transition_not_allowed"
        assert state.value in decision.en and t.en in decision.en


def test_four_eyes_proposal_then_refusal_for_the_same_person_then_approval() -> None:
    f = CaseFacts(S.investigating)
    assert isinstance(plan(f, Action.determine, "alice", DAY), Propose)
    pending = replace(f, pending_action="determine", pending_by="alice")
    refused = plan(pending, Action.determine, "alice", DAY)
    assert isinstance(refused, Refusal) and refused.rule == "four_eyes"
    approved = plan(pending, Action.determine, "bob", DAY)
    assert isinstance(approved, Apply) and approved.proposed_by == "alice"
    # a proposal of another action does not count
    other = replace(f, pending_action="list", pending_by="alice")
    assert isinstance(plan(other, Action.determine, "bob", DAY), Propose)


def test_listing_waits_for_the_objection_window_to_close() -> None:
    f = CaseFacts(S.notified, Severity.general, date(2026, 9, 1), objection_due=date(2026, 10, 23))
    refused = plan(f, Action.list, "alice", date(2026, 10, 23))
    assert isinstance(refused, Refusal) and refused.rule == "objection_window_open"
    assert "2026-10-23" in refused.en
    assert isinstance(plan(f, Action.list, "alice", date(2026, 10, 24)), Propose)


def test_objection_only_inside_the_window() -> None:
    f = CaseFacts(S.notified, objection_due=date(2026, 10, 23))
    assert isinstance(plan(f, Action.object, "subject", date(2026, 10, 23)), Apply)
    late = plan(f, Action.object, "subject", date(2026, 10, 24))
    assert isinstance(late, Refusal) and late.rule == "objection_window_closed"


def test_repair_only_after_the_minimum_period_and_expiry_only_at_the_maximum() -> None:
    f = CaseFacts(S.listed, Severity.general, date(2026, 1, 10), repair_from=date(2026, 4, 10),
                  publication_ends=date(2027, 1, 10))
    early = plan(f, Action.request_repair, "subject", date(2026, 4, 9))
    assert isinstance(early, Refusal) and early.rule == "repair_too_early"
    assert isinstance(plan(f, Action.request_repair, "subject", date(2026, 4, 10)), Apply)
    running = plan(f, Action.expire, "system", date(2027, 1, 9))
    assert isinstance(running, Refusal) and running.rule == "publication_running"
    assert isinstance(plan(f, Action.expire, "system", date(2027, 1, 10)), Apply)


@pytest.mark.parametrize(("severity", "repair_from", "ends", "published"), [
    (Severity.minor, date(2026, 1, 31), date(2026, 4, 30), False),
    (Severity.general, date(2026, 4, 30), date(2027, 1, 31), True),
    (Severity.serious, date(2027, 1, 31), date(2029, 1, 31), True),
])
def test_publication_periods_by_severity_count_from_the_decision_date(
        severity: Severity, repair_from: date, ends: date, published: bool) -> None:
    decided = date(2026, 1, 31)
    f = CaseFacts(S.upheld, severity, decided)
    changes = consequences(BY_ACTION[Action.list], f, severity, date(2026, 3, 2), POLICY,
                           WorkCalendar())
    assert (changes.repair_from, changes.publication_ends, changes.published) == (
        repair_from, ends, published)
    assert changes.listed_on == date(2026, 3, 2)


def test_notice_opens_a_window_in_working_days_and_repair_lifts_measures() -> None:
    cal = WorkCalendar()
    notify = consequences(BY_ACTION[Action.notify], CaseFacts(S.determined), Severity.general,
                          DAY, POLICY, cal)
    assert (notify.notice_on, notify.objection_due) == (DAY, date(2026, 10, 23))
    objected = consequences(BY_ACTION[Action.object], CaseFacts(S.notified), None,
                            date(2026, 10, 9), POLICY, cal)
    assert objected.answer_due == date(2026, 10, 22)  # 10 working days, Saturday 10th worked
    for action in (Action.repair, Action.remove, Action.expire):
        lifted = consequences(BY_ACTION[action], CaseFacts(S.listed), None, DAY, POLICY, cal)
        assert lifted.lift_measures and lifted.published is False


def test_available_actions_are_the_buttons_a_person_may_press() -> None:
    assert available(CaseFacts(S.flagged), DAY) == [Action.investigate, Action.dismiss]
    assert available(CaseFacts(S.objection), DAY) == [Action.uphold, Action.overturn]
    assert available(CaseFacts(S.removed), DAY) == []
    f = CaseFacts(S.notified, objection_due=date(2026, 10, 23))
    assert available(f, date(2026, 10, 1)) == [Action.object]
    assert available(f, date(2026, 10, 24)) == [Action.list]


def test_the_policy_refuses_an_inverted_period() -> None:
    settings = Settings(cases=CaseSettings(publication_months={
        "minor": (0, 3), "general": (12, 3), "serious": (12, 36)}))
    with pytest.raises(ValueError, match="general"):
        CasePolicy.from_settings(settings)
    with pytest.raises(ValueError, match="serious"):
        CasePolicy.from_settings(Settings(cases=CaseSettings(publication_months={
            "minor": (0, 3), "general": (3, 12)})))


END_STATES = {S.dismissed, S.overturned, S.removed}
MID, LATE = date(2027, 3, 1), date(2028, 6, 1)
DAYS = (date(2027, 2, 1), date(2027, 4, 1), date(2028, 7, 1))  # before, between, after


def _reachable(start: CaseFacts, people: tuple[str, ...]) -> set[CaseState]:
    """Every state ``people`` (each of whom may act for the regulator or for the subject) and
    the system can bring a case to from ``start``, on any of the days that pass or fail each
    time rule: every path of the transition table, walked."""
    seen: set[CaseFacts] = set()
    todo = [start]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for t in TRANSITIONS:
            actors = ("system",) if t.party == Party.system else people
            for actor, today in ((a, d) for a in actors for d in DAYS):
                decision = plan(f, t.action, actor, today)
                if isinstance(decision, Propose):
                    todo.append(replace(f, pending_action=t.action.value, pending_by=actor))
                elif isinstance(decision, Apply):
                    side = f.subject_side | ({actor} if t.party == Party.subject else set())
                    todo.append(replace(f, state=t.target, pending_action=None,
                                        pending_by=None, subject_side=frozenset(side)))
    return {f.state for f in seen}


DETERMINED = CaseFacts(S.determined, Severity.general, date(2027, 1, 5), objection_due=MID,
                       repair_from=MID, publication_ends=LATE)


def test_no_single_person_takes_a_determined_case_to_any_end_state() -> None:
    alone = _reachable(DETERMINED, ("mallory",))
    assert not alone & END_STATES, alone
    # notice, and an objection filed for the subject; after it that person decides nothing
    assert alone == {S.determined, S.notified, S.objection}


def test_who_acted_for_the_subject_decides_no_later_step() -> None:
    """Two people, one of whom must object or ask for repair on the subject's behalf: the
    other alone is left to decide, so nothing that needs two deciders — overturning, granting
    repair — can happen; listing (before any objection) and expiry still can."""
    pair = _reachable(DETERMINED, ("alice", "bob"))
    assert S.overturned not in pair and S.repaired not in pair
    assert {S.listed, S.removed} <= pair
    trio = _reachable(DETERMINED, ("alice", "bob", "carol"))
    assert {S.overturned, S.repaired, S.removed} <= trio


def test_the_subjects_representative_is_refused_a_decision_naming_the_rule() -> None:
    f = replace(DETERMINED, state=S.objection, subject_side=frozenset({"alice"}))
    refused = plan(f, Action.overturn, "alice", DAYS[1])
    assert isinstance(refused, Refusal) and refused.rule == "separation_of_duties"
    assert "alice" in refused.en and "separation of duties" in refused.en
    assert isinstance(plan(f, Action.overturn, "bob", DAYS[1]), Propose)
    pending = replace(f, pending_action="overturn", pending_by="bob")
    assert isinstance(plan(pending, Action.overturn, "alice", DAYS[1]), Refusal)
    assert isinstance(plan(pending, Action.overturn, "carol", DAYS[1]), Apply)


@pytest.mark.parametrize("action", [Action.determine, Action.list, Action.overturn,
                                    Action.repair, Action.remove])
def test_decisions_that_make_reverse_or_lift_a_listing_need_two_people(action: Action) -> None:
    assert BY_ACTION[action].four_eyes
