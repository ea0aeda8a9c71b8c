"""Credit points and grades: the scale regulators read, independent of the model behind it.

Points follow the usual points-to-double-odds convention: ``points = offset + factor · ln(odds)``
where odds are good:bad, ``factor = PDO / ln 2`` and ``offset = base_score − factor ·
ln(base_odds)``.
So the base score sits at the base odds, and every PDO points double the odds of being good.
Higher points mean lower risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PointsScale:
    base_score: float = 600.0
    base_odds: float = 50.0  # good:bad odds at the base score
    pdo: float = 20.0

    def __post_init__(self) -> None:
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError(
                f"PDO and base odds must be positive, got {self.pdo}, {self.base_odds}"
            )

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def points_from_logit(self, bad_logit: np.ndarray | float) -> np.ndarray:
        """Points from the log-odds of being bad (ln(p/(1−p))): good:bad log-odds is its
        negative.
        """
        return self.offset - self.factor * np.asarray(bad_logit, dtype=float)

    def points(self, pd_: np.ndarray | float) -> np.ndarray:
        """Points from a probability of default (a dishonesty record within 12 months)."""
        p = np.clip(np.asarray(pd_, dtype=float), 1e-9, 1 - 1e-9)
        return self.points_from_logit(np.log(p / (1 - p)))


GRADES: tuple[str, ...] = ("A", "B", "C", "D")


@dataclass(frozen=True)
class GradeCuts:
    """Lower point bounds of grades A, B and C; everything below C's bound is D.

    A score exactly on a bound gets the better grade.
    """

    a: float = 600.0  # PD below about 2 % at the default scale
    b: float = 575.0  # below about 4.6 %
    c: float = 545.0  # below about 12 %

    def __post_init__(self) -> None:
        if not self.a > self.b > self.c:
            raise ValueError(
                f"grade cut-offs must fall strictly: A {self.a} > B {self.b} > C {self.c}"
            )

    def grade(self, points: np.ndarray | float) -> np.ndarray:
        bounds = np.array([self.c, self.b, self.a])
        idx = np.searchsorted(bounds, np.asarray(points, dtype=float), side="right")
        return np.asarray(GRADES[::-1], dtype=object)[idx]
