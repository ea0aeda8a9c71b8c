"""Permutation importance separates a real driver from noise."""

from __future__ import annotations

import numpy as np

from models.importance import permutation_importance, uninformative


def test_a_driver_matters_and_noise_does_not() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    before = x.copy()
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)
    table = permutation_importance(lambda m: m[:, 0], x, y, ["driver", "noise"], seed=1)
    assert table["feature"].tolist() == ["driver", "noise"]
    assert table.loc[0, "auc_drop"] > 0.2
    assert table.loc[1, "auc_drop"] == 0.0  # the score never reads it
    assert uninformative(table) == ["noise"]
    np.testing.assert_array_equal(x, before)  # shuffles worked on a copy
