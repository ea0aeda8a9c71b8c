"""The regulator's baseline: a WOE-binned logistic-regression scorecard (optbinning).

Every review sets LightGBM beside this model, trained on the same rows, and it serves when the
evidence does not show LightGBM better (:mod:`models.champion`). Variables enter only when
their information value reaches ``min_iv`` (the customary 0.02 "weak" floor), bins are optimal
and monotone where the data allow — in the declared risk direction where there is one — and
the logistic regression is mildly regularised so that a hundred bads cannot make it overfit.
A variable whose coefficient comes out with the wrong sign (risk falling as its WOE says risk
rises, from collinearity) is dropped and the regression refitted, as scorecard practice does:
so more of a bad sign never earns points, as LightGBM's monotone constraints promise.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from models.table import Columns

if TYPE_CHECKING:  # optbinning takes seconds to import: only training needs it
    from optbinning import BinningProcess

MIN_IV = 0.02


@contextmanager
def _quiet():
    """optbinning 1.0 trips pandas 3 deprecation warnings on its own summary tables."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        yield


@dataclass
class Scorecard:
    binning: BinningProcess
    logit: LogisticRegression
    variables: tuple[str, ...]

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        with _quiet():
            woe = self.binning.transform(_frame(df, self.variables), metric="woe",
                                         metric_missing="empirical")
        return self.logit.predict_proba(woe.to_numpy(dtype=float))[:, 1]

    def iv_table(self) -> pd.DataFrame:
        """Information value and selection of every candidate variable, strongest first."""
        with _quiet():
            s = self.binning.summary()
        return (
            s[["name", "dtype", "n_bins", "iv", "gini", "selected"]]
            .sort_values("iv", ascending=False)
            .reset_index(drop=True)
        )


def _frame(df: pd.DataFrame, variables: tuple[str, ...]) -> pd.DataFrame:
    """optbinning wants object columns for categories and floats for numbers (pandas 3 str)."""
    out = {}
    for v in variables:
        s = df[v]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[v] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            out[v] = s.astype(object).where(s.notna(), np.nan)
    return pd.DataFrame(out, index=df.index)


def fit_scorecard(
    df: pd.DataFrame, y: np.ndarray, columns: Columns, min_iv: float = MIN_IV, seed: int = 0,
    monotone: Mapping[str, int] | None = None,
) -> Scorecard:
    """``monotone`` maps a feature to its risk direction (+1: more is riskier): its bins'
    bad rates are made to rise (or fall) with it."""
    from optbinning import BinningProcess

    variables = columns.features
    trends = {f: {"monotonic_trend": "ascending" if d > 0 else "descending"}
              for f, d in (monotone or {}).items() if d and f in columns.numeric}
    binning = BinningProcess(
        list(variables),
        categorical_variables=list(columns.categorical),
        selection_criteria={"iv": {"min": min_iv}},
        binning_fit_params=trends or None,
        n_jobs=1,
    )
    x = _frame(df, variables)
    target = np.asarray(y).astype(int)
    with _quiet():
        binning.fit(x, target)
        woe = binning.transform(x, metric="woe", metric_missing="empirical")
    keep = np.ones(woe.shape[1], dtype=bool)
    while True:
        logit = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
        logit.fit(woe.to_numpy(dtype=float) * keep, target)
        wrong = keep & (logit.coef_[0] > 0)  # WOE rises as risk falls: the sign must be ≤ 0
        if not wrong.any():
            break
        keep &= ~wrong
    logit.coef_[0, ~keep] = 0.0
    return Scorecard(binning, logit, variables)
