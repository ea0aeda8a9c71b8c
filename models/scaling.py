"""Credit points and the master scale: what regulators read, whichever model is behind it.

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
    """The master scale's bands grading probabilities: a PD exactly on a bound gets the worse
    grade (A is PD < ``a_max_pd``). Grades come from the probability, never from the points, so
    a grade means the same risk whatever the points scale."""

    def grade(self, pd_: np.ndarray | float) -> np.ndarray:
        bounds = np.array([self.a_max_pd, self.b_max_pd, self.c_max_pd])
        idx = np.searchsorted(bounds, np.asarray(pd_, dtype=float), side="right")
        return np.asarray(GRADES, dtype=object)[idx]

    def bands(self) -> list[tuple[str, float, float]]:
        """``(grade, lowest PD, highest PD)`` of every grade, A first."""
        edges = [0.0, self.a_max_pd, self.b_max_pd, self.c_max_pd, 1.0]
        return [(g, edges[i], edges[i + 1]) for i, g in enumerate(GRADES)]
