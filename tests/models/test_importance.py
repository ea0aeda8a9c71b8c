"""Permutation importance separates a real driver from noise; so does null importance."""

from __future__ import annotations

import numpy as np

from models.importance import null_importance, permutation_importance


def test_a_driver_matters_and_noise_does_not() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    before = x.copy()
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)
    table = permutation_importance(lambda m: m[:, 0], x, y, ["driver", "noise"], seed=1)
    assert table["feature"].tolist() == ["driver", "noise"]
    assert table.loc[0, "auc_drop"] > 0.2
    assert table.loc[1, "auc_drop"] == 0.0  # the score never reads it
    np.testing.assert_array_equal(x, before)  # shuffles worked on a copy


def test_null_importance_keeps_a_feature_only_when_it_beats_every_shuffled_refit() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 2))
    y = (rng.random(3000) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)

    def gain(target: np.ndarray) -> np.ndarray:
        """|correlation| with the target, and for the noise what any target gives it: what a
        model fitted on ``target`` would lean on."""
        return np.array([abs(np.corrcoef(x[:, 0], target)[0, 1]), 0.05])

    table = null_importance(gain, y, ["driver", "noise"], runs=5, seed=1)
    assert table.null.shape == (5, 2)
    assert table.kept == ("driver",)
    assert table.noise == ("noise",)
    # a feature exactly as strong as its null's best is not kept: it must beat it
    tie = null_importance(lambda t: np.array([1.0, 1.0]), y, ["a", "b"], runs=3)
    assert tie.kept == ()
