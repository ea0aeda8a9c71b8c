"""Measured precision orders the review list beside the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.rules.rank import PRIOR_WEIGHT, combined_score, rule_floor, rule_precision


def test_rules_vouch_for_the_precision_their_hits_showed_in_training() -> None:
    hits = pd.DataFrame({"row": [0, 1, 2, 3, 4, 5, 6, 7],
                         "rule_id": ["sharp"] * 4 + ["noisy"] * 4})
    y = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    train = np.array([True] * 7 + [False] * 3)
    precision = rule_precision(hits, y, train)
    base = y[train].mean()
    assert precision["sharp"] == pytest.approx((3 + PRIOR_WEIGHT * base) / (4 + PRIOR_WEIGHT))
    # the noisy rule's hit on row 7 is outside training: not read
    assert precision["noisy"] == pytest.approx((1 + PRIOR_WEIGHT * base) / (3 + PRIOR_WEIGHT))
    floor = rule_floor(hits, 10, precision)
    assert floor[0] == precision["sharp"] and floor[5] == precision["noisy"] and floor[8] == 0
    model = np.array([0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0])
    combined = combined_score(model, floor)
    assert combined[1] == 0.9 and combined[0] == floor[0] and combined[8] == 0.3
    assert rule_floor(hits.iloc[:0], 3, precision).tolist() == [0.0, 0.0, 0.0]
