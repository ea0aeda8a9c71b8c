"""Platt calibration: known line recovered, increasing output, refusals of unusable fits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.platt import Platt, fit_platt


def _sample(intercept: float, slope: float, n: int = 20_000, seed: int = 1
            ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    raw = rng.normal(0.0, 2.0, n)
    p = 1 / (1 + np.exp(-(intercept + slope * raw)))
    return raw, (rng.random(n) < p).astype(int)


def test_default_is_the_identity_on_log_odds() -> None:
    p = Platt()
    assert p.logit(np.array([-1.5, 0.0, 2.0])).tolist() == [-1.5, 0.0, 2.0]
    assert p.proba(np.array([0.0, math.log(3)])) == pytest.approx([0.5, 0.75])


def test_logit_is_intercept_plus_slope_times_raw() -> None:
    p = Platt(intercept=1.0, slope=2.0)
    assert p.logit([0, 1, -0.5]).tolist() == [1.0, 3.0, 0.0]
    assert p.proba([-0.5]) == pytest.approx([0.5])


@pytest.mark.parametrize(("intercept", "slope"), [(-1.0, 0.5), (0.5, 1.5)])
def test_fit_recovers_a_known_line(intercept: float, slope: float) -> None:
    raw, y = _sample(intercept, slope)
    fit = fit_platt(raw, y)
    assert fit.intercept == pytest.approx(intercept, abs=0.1)
    assert fit.slope == pytest.approx(slope, abs=0.1)


def test_calibrated_probability_is_increasing_in_the_raw_score() -> None:
    raw, y = _sample(-2.0, 0.8, n=5000)
    fit = fit_platt(raw, y)
    grid = np.linspace(-10, 10, 101)
    p = fit.proba(grid)
    assert np.all(np.diff(p) > 0)
    assert np.all((p > 0) & (p < 1))
    # a bad rate well below one half, as planted (intercept -2)
    assert fit.proba(np.array([0.0]))[0] == pytest.approx(1 / (1 + math.exp(2.0)), abs=0.03)


def test_a_single_class_cannot_be_calibrated() -> None:
    with pytest.raises(ValueError, match="both goods and bads"):
        fit_platt(np.array([0.1, 0.2, 0.3]), np.array([0, 0, 0]))
    with pytest.raises(ValueError, match="both goods and bads"):
        fit_platt(np.array([0.1, 0.2]), np.array([True, True]))


def test_a_reversed_ranking_is_refused_not_inverted() -> None:
    raw, y = _sample(-1.0, 0.5)
    with pytest.raises(ValueError, match="slope -0.[0-9]+ is not positive"):
        fit_platt(-raw, y)
