"""Observed against predicted bad rate per grade, once a month's 12-month labels are known.

A grade is in line when its predicted (mean) probability lies inside the exact
(Clopper–Pearson) binomial interval of its observed bad rate: with a few hundred entities a
grade, a point comparison would cry wolf on sampling noise alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import beta

from models.scaling import GRADES


@dataclass(frozen=True)
class GradeCalibration:
    grade: str
    n: int
    bads: int
    predicted: float  # mean predicted probability of the grade's entities
    observed: float  # their observed bad rate
    lower: float  # binomial interval of the observed rate
    upper: float

    @property
    def in_line(self) -> bool:
        return self.lower <= self.predicted <= self.upper


def binomial_interval(bads: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson interval of a rate of ``bads`` in ``n`` (0 and 1 at the edges)."""
    if n <= 0:
        raise ValueError("a binomial interval needs at least one row")
    alpha = 1.0 - confidence
    lower = 0.0 if bads == 0 else float(beta.ppf(alpha / 2, bads, n - bads + 1))
    upper = 1.0 if bads == n else float(beta.ppf(1 - alpha / 2, bads + 1, n - bads))
    return lower, upper


def calibration_by_grade(scores: pd.DataFrame, labels: np.ndarray | pd.Series,
                         confidence: float = 0.95) -> list[GradeCalibration]:
    """Per grade present, A to D: counts, predicted and observed bad rate, interval.

    ``scores`` has ``grade`` and ``probability``; ``labels`` are the 0/1 outcomes of the same
    rows in the same order.
    """
    y = np.asarray(labels).astype(int)
    if len(y) != len(scores):
        raise ValueError(f"{len(scores)} scores but {len(y)} labels")
    frame = pd.DataFrame({"grade": scores["grade"].astype("str").to_numpy(),
                          "p": scores["probability"].to_numpy(dtype=float), "y": y})
    out = []
    for grade in GRADES:
        part = frame[frame["grade"] == grade]
        if not len(part):
            continue
        n, bads = len(part), int(part["y"].sum())
        lower, upper = binomial_interval(bads, n, confidence)
        out.append(GradeCalibration(grade, n, bads, float(part["p"].mean()), bads / n,
                                    lower, upper))
    return out
