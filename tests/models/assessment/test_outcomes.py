"""Outcomes: a first failure warns, a failure while warned exits, a listed case and the bottom
quota exit; every warning and exit names its basis and the indicators behind it."""

from __future__ import annotations

from collections.abc import Collection

from models.assessment.outcomes import InstitutionResult, assess, bottom, failures
from models.assessment.ranking import rank_groups
from tests.models.assessment.support import config, frame
from tests.models.assessment.test_ranking import ROWS


def _by_id(year: int, warned: Collection[str] = (), listed: Collection[str] = (),
           quota: int = 0, **parts: str) -> dict[str, InstitutionResult]:
    a = assess(config(**parts), frame(ROWS), year, warned, listed, quota)
    return {r.standing.institution_id: r for r in a.results}


def test_a_first_failure_warns_and_names_the_indicators() -> None:
    r = _by_id(2019)
    assert {i: x.outcome for i, x in r.items()} == {
        "U1": "warning", "U2": "pass", "U3": "warning", "U4": "pass", "W1": "pass",
        "R1": "pass", "R2": "pass", "R3": "warning", "P1": "warning"}
    u1 = r["U1"]
    assert u1.basis == ("below_pass_mark",) and u1.failed
    assert u1.reasons_zh == ("综合得分20.0，低于合格线40（高校技术转移机构·东组第4/4名）",
                             "甲：10件，组内中位数20件（得分0/100）")
    assert u1.reasons_en == (
        "total 20.0 is below the pass mark 40 (rank 4 of 4 in university technology transfer "
        "office (east))",
        "alpha: 10 contracts against a group median of 20 contracts (score 0/100)")
    u3 = r["U3"]  # below the pass mark and above the limit of b
    assert u3.basis == ("below_pass_mark", "limit:b")
    assert u3.reasons_en[1] == "beta 12%: above the required 10%"
    assert r["U2"].reasons_en == ("total 50.0: pass (rank 2 of 4 in university technology "
                                  "transfer office (east))",)


def test_a_failure_after_a_warning_exits_across_two_years() -> None:
    first = _by_id(2019)
    warned = {i for i, x in first.items() if x.outcome == "warning"}
    second = _by_id(2020, warned=warned)
    assert {i for i, x in second.items() if x.outcome == "exit"} == warned
    assert second["U1"].basis == ("after_warning", "below_pass_mark")
    assert second["U1"].reasons_en[0] == "failed again while under a warning: exit"
    assert second["U1"].reasons_en[2].startswith("alpha: 10 contracts")
    assert second["U2"].outcome == "pass"  # passing while warned would keep it; not warned


def test_a_listed_case_exits_whatever_the_indicators() -> None:
    r = _by_id(2019, listed={"U4"})
    assert (r["U4"].outcome, r["U4"].basis, r["U4"].failed) == ("exit", ("listed_case",), False)
    assert r["U4"].reasons_zh == ("已列入失信名单（失信案件已列入），予以退出",)


def test_the_bottom_quota_exits_the_lowest_totals() -> None:
    standings = rank_groups(config(), frame(ROWS))
    assert bottom(standings, 1) == {"R3"}  # total 0
    assert bottom(standings, 2) == {"R3", "U1"}  # then 20
    assert bottom(standings, 0) == set()
    r = _by_id(2019, quota=2)
    assert r["R3"].outcome == "exit" and r["R3"].basis == ("quota", "below_pass_mark")
    assert r["R3"].reasons_en[0] == "inside the regulator's bottom quota (2 of 9 institutions)"
    assert sum(x.outcome == "exit" for x in r.values()) == 2


def test_the_bottom_share_of_a_group_fails() -> None:
    c = config(method="fail_bottom_share = 0.25")
    by = {s.institution_id: s for s in rank_groups(c, frame(ROWS))}
    assert failures(c, by["U1"]) == ["below_pass_mark", "bottom_share"]  # last of 4
    assert failures(c, by["U2"]) == []  # second of 4
    assert failures(c, by["R1"]) == []  # the bottom quarter of 3 is the last one only


def test_a_missing_report_is_explained_in_the_reasons() -> None:
    rows = {"X1": ("university", "110000", None, None), "X2": ("university", "110000", 3.0, 5.0)}
    a = assess(config(), frame(rows, None), 2019, set(), set())
    x1 = a.results[0]
    assert (x1.outcome, x1.standing.total) == ("warning", 0.0)
    assert x1.reasons_zh[1] == "甲：年末前未提交年度报告，计0分"
    assert a.counts() == {"pass": 1, "warning": 1, "exit": 0}
