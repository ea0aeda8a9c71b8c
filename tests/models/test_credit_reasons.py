"""Reasons are summed per code, in points, and never name what is not shown."""

from __future__ import annotations

import numpy as np
import pytest

from models.credit_reasons import coded_reasons

FEATURES = ("inst_split_share_365d", "inst_cycle_share_365d", "inst_conduct_all",
            "brk_training_hours", "entity_kind", "brk_split_share_365d")
DESCRIPTIONS = {"inst_split_share_365d": ("同日同双方拆分合同占比", "share of same-day splits")}


def test_codes_sum_their_features_and_skip_what_is_not_a_reason() -> None:
    # per feature, calibrated log-odds; last column the base value
    contrib = np.array([[0.2, 0.1, 0.25, 0.9, 0.8, 0.7, -3.0],
                        [-0.2, 0.1, -0.25, 0.9, 0.8, 0.7, -3.0]])
    x = np.array([[0.3, 0.1, 2.0, 100.0, 0.0, np.nan]] * 2)
    shown = [f for f in FEATURES if not f.startswith("brk_")]  # an institution
    rows = coded_reasons(contrib, x, FEATURES, {"entity_kind": ("broker", "institution")},
                         DESCRIPTIONS, 10.0, shown, top=3)
    first = rows[0]
    assert [r.code for r in first] == ["C04", "C01"]  # 0.3 and 0.25; kind and hours never
    split = first[0]
    assert split.points == pytest.approx(3.0) and split.feature == "inst_split_share_365d"
    assert split.value == 0.3 and split.detail_zh == "同日同双方拆分合同占比"
    assert split.text_zh.endswith("扣3.0分") and split.text_en.endswith("−3.0 points")
    assert split.action_en and split.action_zh
    # the second row: C04 nets to −0.1 and C01 lowered risk: no reason at all
    assert rows[1] == ()


def test_a_missing_value_is_no_evidence_and_never_a_reason() -> None:
    contrib = np.array([[0.5, 0.0, 0.4, 0.0, 0.0, 0.0, -3.0]])
    x = np.array([[np.nan, 0.0, np.nan, 1.0, 0.0, 0.2]])  # no contracts, no conduct record
    shown = [f for f in FEATURES if not f.startswith("brk_")]
    assert coded_reasons(contrib, x, FEATURES, {}, {}, 10.0, shown) == [()]
