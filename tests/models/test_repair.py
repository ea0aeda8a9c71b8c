"""Repair guidance on a hand-built scorecard: the smallest actionable move, never history."""

from __future__ import annotations

import numpy as np
import pytest

from models.platt import Platt
from models.repair import MAX_CHANGES, repair_plan
from models.risk_model import RiskModel, Route
from models.scaling import GradeCuts
from models.table import Encoder
from models.woe_card import WoeCard, WoeVariable

FEATURES = ("inst_split_share_365d", "inst_round_share_365d", "inst_conduct_all",
            "inst_staff")


def _model() -> RiskModel:
    """log-odds = −4 + 4·split + 1·round + 1·conduct (WOE = value, coefficient as given)."""
    grid = tuple(np.linspace(0.0, 10.0, 1001))
    woe = (0.0, *grid)  # value v in [g_i, g_i+1) → g_i: the value itself, to 0.01

    def var(name: str, coef: float) -> WoeVariable:
        return WoeVariable(name, coef, 0.0, splits=grid, woe=woe)

    card = WoeCard(FEATURES, -4.0, (var("inst_split_share_365d", 4.0),
                                    var("inst_round_share_365d", 1.0),
                                    var("inst_conduct_all", 1.0)))
    return RiskModel("credit", Encoder(FEATURES, {}), None, Platt(), cuts=GradeCuts(
        a_max_pd=0.02, b_max_pd=0.05, c_max_pd=0.12), card=card, route=Route("scorecard"))


def _p(logit: float) -> float:
    return 1 / (1 + np.exp(-logit))


def test_the_smallest_single_move_reaching_the_next_grade_is_chosen() -> None:
    model = _model()
    x = np.array([[0.5, 0.5, 0.0, 30.0]])  # log-odds −1.5: PD 18 %, grade D
    plan = repair_plan(model, x, FEATURES)
    assert (plan.grade, plan.target, plan.reachable) == ("D", "C", True)
    (change,) = plan.changes
    # C needs PD < 12 %, log-odds < −1.99: split 0.5 → 0.35 (3 tenths, −0.6) is the first
    # that reaches; round reaches only at 0 (all ten tenths), so split is the smaller move
    assert change.feature == "inst_split_share_365d" and change.code == "C04"
    assert change.after == pytest.approx(0.35)
    assert plan.probability_after < 0.12 <= plan.probability
    assert plan.entity_en.startswith("smallest improvement to reach grade C")


def test_history_and_attributes_are_never_moved_and_unreachable_is_said() -> None:
    model = _model()
    x = np.array([[0.0, 0.0, 5.0, 30.0]])  # conduct alone: log-odds +1, PD 73 %
    plan = repair_plan(model, x, FEATURES)
    assert plan.target == "C" and not plan.reachable
    assert plan.changes == ()
    assert "信用修复" in plan.entity_zh and "credit repair" in plan.entity_en
    assert "cannot change" in plan.regulator_en


def test_greedy_repairs_the_strongest_lever_first_then_continues() -> None:
    model = _model()
    x = np.array([[1.0, 3.0, 0.0, 30.0]])  # log-odds +3; C needs < −1.99
    plan = repair_plan(model, x, FEATURES)
    assert plan.reachable and len(plan.changes) <= MAX_CHANGES
    first, second = plan.changes
    assert first.feature == "inst_split_share_365d" and first.after == 0.0  # −4 beats −3
    assert second.feature == "inst_round_share_365d" and second.after < 3.0
    assert _p(-4 + second.after) < 0.12


def test_the_best_grade_has_nothing_to_repair() -> None:
    plan = repair_plan(_model(), np.array([[0.0, 0.0, 0.0, 30.0]]), FEATURES)
    assert plan.grade == "A" and plan.target is None and plan.changes == ()
    assert plan.as_dict()["entity_en"].startswith("already the best grade")
