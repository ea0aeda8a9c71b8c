"""KS, Gini, PSI, IV, calibration and precision-at-k on hand-checkable inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.metrics import (
    auc,
    calibration_ratio,
    calibration_table,
    gini,
    ks,
    precision_at_k,
    precision_at_k_by_group,
    psi,
    psi_categorical,
)


def test_ks_of_perfect_and_useless_rankings() -> None:
    y = np.array([0, 0, 0, 1, 1])
    assert ks(y, np.array([0.1, 0.2, 0.3, 0.8, 0.9])) == pytest.approx(1.0)
    assert ks(y, np.full(5, 0.5)) == pytest.approx(0.0)  # ties cannot be split


def test_ks_hand_computed() -> None:
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1])
    # cut after 0.9: bad 1/2, good 0 → 0.5; after 0.7: bad 1, good 1/2 → 0.5
    assert ks(y, p) == pytest.approx(0.5)


def test_gini_is_two_auc_minus_one() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = y + rng.normal(size=500)
    assert gini(y, p) == pytest.approx(2 * auc(y, p) - 1)


def test_psi_zero_when_stable_and_large_when_shifted() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=20000)
    assert psi(a, rng.normal(size=20000)) < 0.01
    assert psi(a, rng.normal(1.0, 1, 20000)) > 0.25
    with_nan = np.r_[a[:1000], np.full(1000, np.nan)]
    assert psi(a, with_nan) > 1.0  # missing values are their own bin


def test_psi_categorical() -> None:
    a = pd.Series(["x"] * 50 + ["y"] * 50)
    assert psi_categorical(a, a) == pytest.approx(0.0)
    assert psi_categorical(a, pd.Series(["x"] * 90 + ["y"] * 10)) > 0.25


def test_calibration_table_and_ratio() -> None:
    p = np.linspace(0.01, 0.5, 1000)
    y = (np.random.default_rng(3).random(1000) < p).astype(int)
    t = calibration_table(y, p, bins=10)
    assert len(t) == 10 and t["n"].sum() == 1000
    assert t["predicted"].is_monotonic_increasing
    assert calibration_ratio(np.array([1, 0, 0, 0]), np.array([0.25] * 4)) == pytest.approx(1.0)
    assert calibration_ratio(np.array([1, 1, 0, 0]), np.array([0.25] * 4)) == pytest.approx(0.5)


def test_precision_at_k_overall_and_per_office() -> None:
    y = np.array([1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    assert precision_at_k(y, p, 2) == pytest.approx(0.5)
    assert precision_at_k(y, p, 3) == pytest.approx(2 / 3)
    office = np.array(["a", "a", "a", "b", "b", "b"])
    # office a reviews 0.9 (bad); office b reviews 0.6 (good)
    assert precision_at_k_by_group(y, p, office, 1) == pytest.approx(0.5)
