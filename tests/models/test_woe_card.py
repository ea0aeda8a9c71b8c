"""The servable scorecard equals optbinning's, adds up exactly, and survives JSON."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.scorecard import fit_scorecard
from models.table import fit_encoder, infer_columns
from models.woe_card import WoeCard, WoeVariable, card_of


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 4000
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": pd.Series(rng.choice(["u", "v", "w"], n), dtype="str")})
    x.loc[:40, "a"] = np.nan
    logit = 1.5 * x["a"].fillna(0) - 2 + (x["c"] == "u")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    return x, y


def test_the_card_scores_as_the_fitted_scorecard_and_adds_up(data) -> None:
    x, y = data
    cols = infer_columns(x.assign(y=y), "y")
    card_fit = fit_scorecard(x, y, cols, monotone={"a": 1})
    enc = fit_encoder(x, cols)
    m = enc.matrix(x)
    card = card_of(card_fit, enc, m)
    raw = card.raw(m)
    np.testing.assert_allclose(1 / (1 + np.exp(-raw)), card_fit.predict(x), atol=1e-12)
    contrib = card.contributions(m)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-12)
    np.testing.assert_allclose(contrib[:, :-1].mean(axis=0), 0.0, atol=1e-12)  # from the mean
    again = WoeCard.from_json(card.to_json())
    np.testing.assert_array_equal(again.raw(m), raw)


def test_monotone_variable_never_lowers_risk_as_it_rises(data) -> None:
    x, y = data
    cols = infer_columns(x.assign(y=y), "y")
    enc = fit_encoder(x, cols)
    card = card_of(fit_scorecard(x, y, cols, monotone={"a": 1}), enc, enc.matrix(x))
    grid = np.zeros((200, len(enc.features)))
    grid[:, enc.features.index("a")] = np.linspace(-4, 4, 200)
    assert np.all(np.diff(card.raw(grid)) >= -1e-12)


def test_bins_split_as_optbinning_and_missing_has_its_own_woe() -> None:
    v = WoeVariable("a", -1.0, 0.0, splits=(0.0, 1.0), woe=(0.5, 0.0, -0.5), missing=0.7)
    column = np.array([-1.0, 0.0, 0.5, 1.0, np.nan])
    np.testing.assert_array_equal(v.values(column), [0.5, 0.0, 0.0, -0.5, 0.7])
    c = WoeVariable("c", -1.0, 0.0, woe=(0.2, -0.3), categorical=True)
    np.testing.assert_array_equal(c.values(np.array([1.0, 0.0, np.nan])), [-0.3, 0.2, 0.0])
