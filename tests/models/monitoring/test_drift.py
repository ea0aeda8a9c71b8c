"""The monitoring reference and drift measures on synthetic arrays with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.metrics import psi as review_psi
from models.monitoring.drift import (
    EPS,
    Level,
    Thresholds,
    binned_ks,
    compare,
    drift,
    psi_of,
    worst,
)
from models.monitoring.reference import (
    MISSING,
    OTHER,
    SCORE,
    Kind,
    Reference,
    fit_reference,
    fit_variable,
    top_features,
)

RNG = np.random.default_rng(13)
NORMAL = RNG.normal(size=10_000)


def _reference(frame: pd.DataFrame, features: list[str], categorical: set[str] = frozenset(),
               bins: int = 10) -> Reference:
    return fit_reference(frame, features, categorical, bins=bins, model_name="m",
                         model_version="1", window=("2015-01-31", "2015-12-31"))


def test_identical_month_has_no_drift() -> None:
    frame = pd.DataFrame({SCORE: NORMAL * 20 + 580, "x": NORMAL})
    ref = _reference(frame, ["x"])
    results = drift(ref, frame)
    assert [(r.variable, r.kind, r.n) for r in results] == [
        (SCORE, Kind.score, 10_000), ("x", Kind.numeric, 10_000)]
    for r in results:
        assert (r.psi, r.ks, r.js, r.level) == (0.0, 0.0, 0.0, Level.ok)
        assert r.p_value == pytest.approx(1.0)


def test_known_shares_give_the_textbook_psi_and_ks() -> None:
    e, a = np.full(4, 0.25), np.array([0.1, 0.2, 0.3, 0.4])
    expected = sum((ai - 0.25) * math.log(ai / 0.25) for ai in a)
    assert psi_of(e, a) == pytest.approx(expected) == pytest.approx(0.228218, abs=1e-6)
    assert binned_ks(e, a) == pytest.approx(0.2)


def test_a_one_sd_shift_is_act_and_matches_the_review_psi() -> None:
    frame = pd.DataFrame({SCORE: NORMAL, "x": NORMAL})
    shifted = pd.DataFrame({SCORE: NORMAL[:5_000], "x": RNG.normal(1.0, 1.0, 5_000)})
    x = drift(_reference(frame, ["x"]), shifted)[1]
    assert x.psi >= 0.25 and x.level is Level.act and x.p_value < 1e-12
    # the same bins and epsilon as the review gate's PSI (models.metrics.psi)
    assert x.psi == pytest.approx(review_psi(NORMAL, shifted["x"].to_numpy()), rel=1e-12)
    assert 0.3 < x.ks < 0.5 and 0.2 < x.js < 0.5


def test_thresholds_are_inclusive_and_the_test_level_strict() -> None:
    t = Thresholds()  # watch 0.10, act 0.25, alpha 0.01
    assert [t.level(v, 0.0) for v in (0.0999, 0.1, 0.2499, 0.25, 3.0)] == [
        Level.ok, Level.watch, Level.watch, Level.act, Level.act]
    assert t.level(0.5, 0.0099) is Level.act and t.level(0.5, 0.01) is Level.ok
    assert worst([Level.watch, Level.ok, Level.act]) is Level.act and worst([]) is Level.ok
    for bad in ({"watch": 0.3, "act": 0.25}, {"watch": 0.0}, {"alpha": 0.0}):
        with pytest.raises(ValueError):
            Thresholds(**bad)


def test_small_samples_read_large_psi_but_no_alert_without_a_significant_shift() -> None:
    """Forty rows of the training distribution: PSI is inflated by sampling noise alone."""
    ref = fit_variable("x", NORMAL, Kind.numeric, 10)
    r = compare(ref, len(NORMAL), np.random.default_rng(5).normal(size=40), Thresholds())
    assert r.psi >= 0.10 and r.p_value > 0.01 and r.level is Level.ok


def test_empty_bins_use_the_epsilon_and_categories_have_their_own_bins() -> None:
    ref = fit_variable("kind", pd.Series(["a"] * 50 + ["b"] * 50), Kind.categorical, 10)
    assert ref.bin_labels() == ("a", "b", OTHER, MISSING)
    assert ref.expected == (0.5, 0.5, 0.0, 0.0)
    month = pd.Series(["a"] * 50 + ["c"] * 50)  # "b" gone, an unseen "c" in its place
    r = compare(ref, 100, month, Thresholds())
    assert r.psi == pytest.approx(2 * (0.5 - EPS) * math.log(0.5 / EPS))
    assert r.ks is None and r.js == pytest.approx(math.sqrt(0.5))
    assert r.level is Level.act


def test_missing_values_are_a_bin_and_edge_values_go_up() -> None:
    ref = fit_variable("x", np.arange(10.0), Kind.numeric, 2)
    assert ref.edges == (4.5,) and ref.expected == (0.5, 0.5, 0.0)
    assert ref.counts(np.array([4.5, 4.4, np.nan, np.nan])).tolist() == [1.0, 1.0, 2.0]
    month = np.r_[np.arange(8.0), [np.nan, np.nan]]
    shares = ref.shares(month)
    assert shares.tolist() == [0.5, 0.3, 0.2]
    assert compare(ref, 10, month, Thresholds()).psi == pytest.approx(
        psi_of(np.array([0.5, 0.5, 0.0]), shares))


def test_reference_survives_json_and_refuses_bad_input() -> None:
    frame = pd.DataFrame({SCORE: NORMAL[:500], "x": NORMAL[500:1000],
                          "k": np.where(NORMAL[:500] > 0, "institution", "broker")})
    ref = _reference(frame, ["x", "k"], {"k"}, bins=5)
    assert Reference.from_dict(ref.as_dict()) == ref
    assert [v.kind for v in ref.variables] == [Kind.score, Kind.numeric, Kind.categorical]
    assert len(ref.variables[1].edges) == 4 and ref.variables[2].levels == ("broker",
                                                                           "institution")
    with pytest.raises(ValueError, match="no rows"):
        _reference(frame.iloc[:0], ["x"])
    with pytest.raises(ValueError, match="no rows"):
        drift(ref, frame.iloc[:0])
    with pytest.raises(KeyError, match="'k'"):
        drift(ref, frame.drop(columns="k"))


def test_top_features_by_importance_then_the_model_order() -> None:
    importance = {"a": 0.0, "b": 5.0, "c": 9.0, "d": 5.0, "e": 0.0}
    assert top_features(importance, 3) == ("c", "b", "d")
    assert top_features(importance, 5) == ("c", "b", "d", "a", "e")  # unused inputs last
