"""Platt calibration of the booster's raw log-odds on a later period.

Platt scaling is a single increasing line on the log-odds, so it keeps the monotone
constraints and the SHAP decomposition (every contribution is simply multiplied by the
slope): reasons, points and probabilities stay one consistent story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression


@dataclass(frozen=True)
class Platt:
    intercept: float = 0.0
    slope: float = 1.0

    def logit(self, raw: np.ndarray) -> np.ndarray:
        return self.intercept + self.slope * np.asarray(raw, dtype=float)

    def proba(self, raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(raw)))


def fit_platt(raw: np.ndarray, y: np.ndarray) -> Platt:
    """Fit on held-out raw scores; refuse a non-increasing fit rather than invert the ranking."""
    y = np.asarray(y).astype(int)
    if y.min() == y.max():
        raise ValueError("calibration needs both goods and bads in the held-out period")
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(np.asarray(raw, dtype=float)[:, None], y)
    slope = float(lr.coef_[0, 0])
    if slope <= 0:
        raise ValueError(
            f"calibration slope {slope:.3f} is not positive: the model does not rank "
            "the held-out period at all"
        )
    return Platt(float(lr.intercept_[0]), slope)
