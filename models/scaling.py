"""Credit points and grades: the scale regulators read, independent of the model behind it.

Points follow the usual points-to-double-odds convention: ``points = offset + factor · ln(odds)``
where odds are good:bad, ``factor = PDO / ln 2`` and ``offset = base_score − factor ·
ln(base_odds)``.
So the base score sits at the base odds, and every PDO points double the odds of being good.
Higher points mean lower risk.
"""

from __future__ import annotations

import math

import numpy as np

from features.settings import GradeSettings, PointsSettings


class PointsScale(PointsSettings):
    """The points settings (base score, base odds, PDO) with the arithmetic that uses them."""

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


class GradeCuts(GradeSettings):
    """The grade settings (lower point bounds of A, B and C) grading points: everything below
    C's bound is D, and a score exactly on a bound gets the better grade.
    """

    def grade(self, points: np.ndarray | float) -> np.ndarray:
        bounds = np.array([self.c, self.b, self.a])
        idx = np.searchsorted(bounds, np.asarray(points, dtype=float), side="right")
        return np.asarray(GRADES[::-1], dtype=object)[idx]
