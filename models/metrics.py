"""Validation metrics in the language model reviewers use: AUC, Gini, KS, Brier, PSI, IV.

All functions take plain arrays so that the same code scores LightGBM, the scorecard
baseline and the current champion on identical footing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

_EPS = 1e-6


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present (cannot be judged)."""
    y = np.asarray(y)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, p))


def gini(y: np.ndarray, p: np.ndarray) -> float:
    """Accuracy ratio as credit validators quote it: 2·AUC − 1."""
    return 2.0 * auc(y, p) - 1.0


def ks(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the cumulative bad and good distributions."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    if y.all() or not y.any():
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    ys, ps = y[order], p[order]
    cum_bad = np.cumsum(ys) / ys.sum()
    cum_good = np.cumsum(~ys) / (~ys).sum()
    # evaluate only at the end of each run of tied scores: ties cannot be split by a cut-off
    last = np.r_[ps[1:] != ps[:-1], True]
    return float(np.max(np.abs(cum_bad[last] - cum_good[last])))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(brier_score_loss(np.asarray(y), np.clip(p, 0, 1)))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y)
    if not y.any():
        return float("nan")
    return float(average_precision_score(y, p))


def precision_at_k(y: np.ndarray, p: np.ndarray, k: int) -> float:
    """Share of true positives among the k highest scores: what a reviewing office finds."""
    y = np.asarray(y)
    k = int(min(k, len(y)))
    if k <= 0:
        return float("nan")
    top = np.argsort(-np.asarray(p, dtype=float), kind="mergesort")[:k]
    return float(y[top].mean())


def top_k_by_group(p: np.ndarray, groups: np.ndarray, k: int) -> np.ndarray:
    """Row mask of what each group (registration office) reviews: its own k highest scores."""
    frame = pd.DataFrame({"p": np.asarray(p, dtype=float), "g": groups})
    return (frame.groupby("g")["p"].rank(method="first", ascending=False) <= k).to_numpy()


def precision_at_k_by_group(y: np.ndarray, p: np.ndarray, groups: np.ndarray, k: int) -> float:
    """Pooled precision when every group (registration office) reviews its own top k."""
    top = np.asarray(y)[top_k_by_group(p, groups, k)]
    return float(top.mean()) if len(top) else float("nan")


def quantile_edges(reference: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior cut points from the reference sample; PSI and score tables share them."""
    ref = np.asarray(reference, dtype=float)
    ref = ref[~np.isnan(ref)]
    if len(ref) == 0:
        return np.array([])
    return np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))


def _shares(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of x in each bin, with missing values as a bin of their own."""
    x = np.asarray(x, dtype=float)
    miss = np.isnan(x)
    counts = np.bincount(np.searchsorted(edges, x[~miss], side="right"), minlength=len(edges) + 1)
    counts = np.r_[counts, miss.sum()].astype(float)
    return counts / max(len(x), 1)


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` on expected's deciles.

    Usual reading: below 0.10 stable, 0.10–0.25 watch, above 0.25 shifted.
    """
    edges = quantile_edges(expected, bins)
    e, a = _shares(expected, edges), _shares(actual, edges)
    e, a = np.maximum(e, _EPS), np.maximum(a, _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_categorical(expected: pd.Series, actual: pd.Series) -> float:
    """PSI for a text column: one bin per level, missing as a level."""
    e = expected.astype("str").fillna("<NA>").value_counts(normalize=True)
    a = actual.astype("str").fillna("<NA>").value_counts(normalize=True)
    levels = e.index.union(a.index)
    e = np.maximum(e.reindex(levels, fill_value=0).to_numpy(), _EPS)
    a = np.maximum(a.reindex(levels, fill_value=0).to_numpy(), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed bad rate per predicted-risk decile (expected vs observed)."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    ranks = frame["p"].rank(method="first")
    frame["bin"] = np.ceil(ranks / len(frame) * bins).clip(1, bins).astype(int)
    t = frame.groupby("bin").agg(
        n=("y", "size"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
        p_min=("p", "min"),
        p_max=("p", "max"),
    )
    return t.reset_index()


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    t = calibration_table(y, p, bins)
    return float(np.sum(t["n"] * (t["predicted"] - t["observed"]).abs()) / t["n"].sum())


def calibration_ratio(y: np.ndarray, p: np.ndarray) -> float:
    """Calibration in the large: expected bads over observed bads (1 = right on average)."""
    observed = float(np.sum(y))
    return float(np.sum(p)) / observed if observed else float("inf")


@dataclass(frozen=True)
class Discrimination:
    """The summary line a review compares model against model."""

    n: int
    bad_rate: float
    auc: float
    gini: float
    ks: float
    brier: float
    calibration_ratio: float
    ece: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def discrimination(y: np.ndarray, p: np.ndarray) -> Discrimination:
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    return Discrimination(
        n=len(y),
        bad_rate=float(y.mean()) if len(y) else float("nan"),
        auc=auc(y, p),
        gini=gini(y, p),
        ks=ks(y, p),
        brier=brier(y, p),
        calibration_ratio=calibration_ratio(y, p),
        ece=expected_calibration_error(y, p),
    )
