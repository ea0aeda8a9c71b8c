"""WOE scorecard on a planted signal: monotone risk, IV table, probabilities, IV floor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.scorecard import MIN_IV, Scorecard, fit_scorecard
from models.table import Columns

COLUMNS = Columns(("signal", "noise"), ("group",))


def _table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Bad odds rise with ``signal`` and in group "c"; ``noise`` carries nothing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    logit = -2.0 + 1.5 * x + np.where(group == "c", 1.0, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"signal": x, "noise": rng.normal(size=n), "group": group})
    return df, y


@pytest.fixture(scope="module")
def fitted() -> tuple[Scorecard, pd.DataFrame, np.ndarray]:
    df, y = _table(2000, seed=0)
    return fit_scorecard(df, y, COLUMNS), df, y


def test_iv_table_lists_every_candidate_strongest_first(
    fitted: tuple[Scorecard, pd.DataFrame, np.ndarray],
) -> None:
    sc = fitted[0]
    iv = sc.iv_table()
    assert list(iv.columns) == ["name", "dtype", "n_bins", "iv", "gini", "selected"]
    assert sorted(iv["name"]) == ["group", "noise", "signal"]
    assert iv["iv"].is_monotonic_decreasing
    assert iv["name"].iloc[0] == "signal"
    row = iv.set_index("name")
    assert row.loc["signal", "iv"] > 0.5 and bool(row.loc["signal", "selected"])
    assert row.loc["group", "dtype"] == "categorical" and bool(row.loc["group", "selected"])
    assert row.loc["noise", "iv"] < row.loc["group", "iv"] < row.loc["signal", "iv"]
    assert sc.variables == ("signal", "noise", "group")


def test_predictions_are_probabilities_that_rank_a_fresh_sample(
    fitted: tuple[Scorecard, pd.DataFrame, np.ndarray],
) -> None:
    sc = fitted[0]
    df, y = _table(2000, seed=1)
    p = sc.predict(df)
    assert p.shape == (2000,)
    assert np.all((p > 0) & (p < 1))
    assert roc_auc_score(y, p) > 0.75
    assert abs(p.mean() - y.mean()) < 0.05


def test_risk_rises_monotonically_with_the_signal(
    fitted: tuple[Scorecard, pd.DataFrame, np.ndarray],
) -> None:
    sc = fitted[0]
    grid = pd.DataFrame({"signal": np.linspace(-3, 3, 25), "noise": 0.0, "group": "a"})
    p = sc.predict(grid)
    assert np.all(np.diff(p) >= 0)
    assert p[-1] - p[0] > 0.3
    same = grid.assign(group="c")
    assert np.all(sc.predict(same) > p)  # group "c" carries the planted extra risk


def test_missing_and_unseen_values_still_score(
    fitted: tuple[Scorecard, pd.DataFrame, np.ndarray],
) -> None:
    sc = fitted[0]
    odd = pd.DataFrame({"signal": [np.nan, 0.0], "noise": [0.0, np.nan], "group": ["zzz", None]})
    p = sc.predict(odd)
    assert np.all(np.isfinite(p)) and np.all((p > 0) & (p < 1))


def test_variables_below_the_iv_floor_do_not_move_the_score() -> None:
    df, y = _table(1500, seed=2)
    sc = fit_scorecard(df, y, COLUMNS, min_iv=0.5)
    iv = sc.iv_table().set_index("name")
    assert iv["selected"].astype(bool).to_dict() == {"signal": True, "group": False,
                                                     "noise": False}
    base = sc.predict(df.iloc[:50])
    moved = df.iloc[:50].assign(group="c", noise=df["noise"].iloc[:50] + 5)
    np.testing.assert_allclose(sc.predict(moved), base)
    assert MIN_IV == 0.02
