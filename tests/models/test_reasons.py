"""Reason codes: largest risk-raising SHAP terms in order, bilingual text, global importance."""

from __future__ import annotations

import numpy as np
import pytest

from models.reasons import Reason, describe, shap_summary, top_reasons

FEATURES = ["amount", "level", "complaints", "age"]
LEVELS = {"level": ["low", "high"]}
DESCRIPTIONS = {"amount": ("合同金额", "contract amount"), "complaints": ("投诉数", "complaints")}
# one row per case; the last column is the base value and is never a reason
CONTRIB = np.array([
    [0.2, -0.5, 0.4, 0.1, 9.0],
    [-0.1, -0.2, -0.3, 0.0, 1.0],
    [0.3, 0.3, 0.0, 0.0, 0.0],
])
X = np.array([
    [1234.5, 1.0, np.nan, 2.0],
    [0.0, 0.0, 0.0, 0.0],
    [5.0, 1.0, 7.0, 8.0],
])


def _reasons(top: int = 3, factor: float = 10.0) -> list[list[Reason]]:
    # contributions arrive calibrated (the model multiplied them by its Platt slope 2)
    return top_reasons(CONTRIB * 2.0, X, FEATURES, LEVELS, DESCRIPTIONS, factor, top)


def test_largest_risk_raising_contributions_come_first() -> None:
    rows = _reasons()
    assert [r.feature for r in rows[0]] == ["complaints", "amount", "age"]
    assert [r.logit for r in rows[0]] == pytest.approx([0.8, 0.4, 0.2])  # times the slope 2
    assert [r.points for r in rows[0]] == pytest.approx([8.0, 4.0, 2.0])  # times factor 10


def test_factors_that_lowered_risk_are_never_reasons() -> None:
    rows = _reasons()
    assert rows[1] == []  # every contribution is zero or negative
    assert "level" not in [r.feature for r in rows[0]]  # -0.5 lowered row 0's risk
    # row 2: only two positive terms, tied, kept in feature order
    assert [r.feature for r in rows[2]] == ["amount", "level"]


def test_top_limits_the_number_of_reasons() -> None:
    rows = _reasons(top=1)
    assert [[r.feature for r in row] for row in rows] == [["complaints"], [], ["amount"]]


def test_values_are_decoded_and_missing_is_none() -> None:
    rows = _reasons()
    by_name = {r.feature: r for r in rows[0]}
    assert by_name["complaints"].value is None
    assert by_name["amount"].value == 1234.5
    assert rows[2][1].value == "high"  # code 1 of the level column


def test_texts_in_chinese_and_english() -> None:
    rows = _reasons()
    complaints, amount, age = rows[0]
    assert amount.text_zh == "合同金额（1,234）"
    assert amount.text_en == "contract amount (1,234)"
    assert complaints.text_zh == "投诉数（缺失/missing）"
    assert complaints.text_en == "complaints (缺失/missing)"
    assert (age.zh, age.en, age.text_en) == ("age", "age", "age (2)")
    assert rows[2][1].text_en == "level (high)"
    d = amount.as_dict()
    assert d["feature"] == "amount" and d["text_zh"] == "合同金额（1,234）"
    assert d["points"] == pytest.approx(4.0) and d["value"] == 1234.5


def test_describe_falls_back_to_the_column_name() -> None:
    assert describe("amount", DESCRIPTIONS) == ("合同金额", "contract amount")
    assert describe("unknown_feature", DESCRIPTIONS) == ("unknown_feature", "unknown_feature")
    assert describe("x", {"x": ["甲", "a"]}) == ("甲", "a")  # lists from JSON become tuples


def test_shap_summary_orders_features_by_mean_absolute_contribution() -> None:
    got = shap_summary(CONTRIB, FEATURES)
    assert [name for name, _ in got] == ["level", "complaints", "amount", "age"]
    assert [v for _, v in got] == pytest.approx([1.0 / 3, 0.7 / 3, 0.6 / 3, 0.1 / 3])
    # the base value (9.0 in row 0) is not a feature
    assert len(got) == len(FEATURES)
