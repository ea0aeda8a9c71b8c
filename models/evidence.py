"""Evidence that one model beats another: entity-clustered bootstrap intervals, seed spread.

Month-end rows of one entity are nearly copies of each other and share outcomes, so an
interval that resamples rows is far too narrow; resampling whole entities (clusters) with
replacement is what the rows can actually support. Each replicate re-weights the same
sorted scores (weights = how often its entity was drawn), so a thousand replicates of AUC
and KS on a hundred thousand rows take seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.metrics import auc, ks

BOOTSTRAP_REPLICATES = 1000
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with its (percentile) bootstrap interval."""

    point: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.point:.4f} [{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True)
class Bootstrap:
    """AUC and KS of every scored model, and AUC differences against the first (reference)."""

    n: int
    clusters: int
    bads: int
    auc: Mapping[str, Interval]
    ks: Mapping[str, Interval]
    auc_gain: Mapping[str, Interval]  # reference AUC − other model's AUC, per other model


@dataclass(frozen=True)
class Spread:
    """How a figure moves when only the training seed changes."""

    mean: float
    sd: float
    low: float
    high: float
    seeds: int

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.sd:.4f} (min {self.low:.4f}, max {self.high:.4f})"


class _Ranked:
    """Scores reduced to tie levels once, so each replicate is a few bincounts."""

    def __init__(self, y: np.ndarray, p: np.ndarray) -> None:
        levels, self.level = np.unique(np.asarray(p, dtype=float), return_inverse=True)
        self.n_levels = len(levels)
        self.y = np.asarray(y).astype(bool)

    def _per_level(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.bincount(self.level, w * self.y, self.n_levels)
        neg = np.bincount(self.level, w * ~self.y, self.n_levels)
        return pos, neg

    def auc(self, w: np.ndarray) -> float:
        pos, neg = self._per_level(w)
        below = np.cumsum(neg) - neg
        total = pos.sum() * neg.sum()
        return float(np.sum(pos * (below + 0.5 * neg)) / total) if total else float("nan")

    def ks(self, w: np.ndarray) -> float:
        pos, neg = self._per_level(w)
        if not pos.sum() or not neg.sum():
            return float("nan")
        return float(np.max(np.abs(np.cumsum(pos) / pos.sum() - np.cumsum(neg) / neg.sum())))


def _interval(point: float, draws: np.ndarray, level: float) -> Interval:
    lo, hi = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(point), float(lo), float(hi))


def clustered_bootstrap(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    clusters: np.ndarray,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
    level: float = LEVEL,
) -> Bootstrap:
    """Resample clusters with replacement; the first model in ``scores`` is the reference.

    Every model is scored on the same replicate, so the interval of a difference reflects
    how the two models move together, not two independent spreads.
    """
    if not scores:
        raise ValueError("no scores to compare")
    y = np.asarray(y).astype(int)
    codes, uniq = pd.factorize(pd.Series(clusters).astype("str"))
    ranked = {name: _Ranked(y, p) for name, p in scores.items()}
    rng = np.random.default_rng(seed)
    aucs = {name: np.empty(replicates) for name in scores}
    kss = {name: np.empty(replicates) for name in scores}
    for r in range(replicates):
        counts = np.bincount(rng.integers(0, len(uniq), len(uniq)), minlength=len(uniq))
        w = counts[codes].astype(float)
        for name, rk in ranked.items():
            aucs[name][r] = rk.auc(w)
            kss[name][r] = rk.ks(w)
    names = list(scores)
    ref = names[0]
    point_auc = {name: auc(y, scores[name]) for name in names}
    return Bootstrap(
        n=len(y),
        clusters=len(uniq),
        bads=int(y.sum()),
        auc={name: _interval(point_auc[name], aucs[name], level) for name in names},
        ks={name: _interval(ks(y, scores[name]), kss[name], level) for name in names},
        auc_gain={
            name: _interval(point_auc[ref] - point_auc[name], aucs[ref] - aucs[name], level)
            for name in names[1:]
        },
    )


def seed_spread(values: Sequence[float]) -> Spread:
    v = np.asarray(values, dtype=float)
    return Spread(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  float(v.min()), float(v.max()), len(v))


@dataclass(frozen=True)
class SegmentEvidence:
    """One segment's (or all rows') bootstrap, with the hidden-truth ceiling when known."""

    segment: str
    bootstrap: Bootstrap
    ceiling: float | None = None


def evidence_by_segment(
    held: pd.DataFrame,
    scores: Mapping[str, str],
    cluster: str,
    segment: str | None = None,
    ceiling: str | None = None,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> list[SegmentEvidence]:
    """Bootstrap of every model (``scores`` maps a model's name to its column) on all rows
    and on each level of ``segment``.

    ``ceiling`` names a column holding what a perfect model of the hidden truth would score
    (the synthetic market's integrity, higher = riskier): its AUC is the best any model of the
    observable data could hope for, so a model's distance to it is the room left.
    """
    parts = [("all", held)]
    if segment is not None:
        parts += [(str(k), g) for k, g in held.groupby(held[segment].astype("str"), sort=True)]
    out = []
    for name, part in parts:
        y = part["y"].to_numpy()
        if y.min() == y.max():
            continue
        b = clustered_bootstrap(
            y, {m: part[col].to_numpy() for m, col in scores.items()},
            part[cluster].to_numpy(), replicates, seed,
        )
        top = auc(y, part[ceiling].to_numpy()) if ceiling is not None else None
        out.append(SegmentEvidence(name, b, top))
    return out
