"""Points-to-double-odds scaling and the master scale's probability bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.scaling import GradeCuts, PointsScale


def test_base_score_sits_at_base_odds_and_pdo_doubles_them() -> None:
    s = PointsScale(base_score=600, base_odds=50, pdo=20)
    p_at_base = 1 / 51  # good:bad odds 50:1
    assert s.points(p_at_base) == pytest.approx(600)
    p_double = 1 / 101  # odds 100:1
    assert s.points(p_double) == pytest.approx(620)
    p_half = 1 / 26  # odds 25:1
    assert s.points(p_half) == pytest.approx(580)
    assert s.factor == pytest.approx(20 / math.log(2))
    assert s.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50))


def test_points_fall_as_risk_rises_by_pdo_per_doubling_of_the_odds() -> None:
    s = PointsScale(base_score=500, base_odds=20, pdo=40)
    p = np.array([0.001, 0.01, 0.1, 0.5, 0.9])
    pts = s.points(p)
    assert np.all(np.diff(pts) < 0)
    odds = p / (1 - p)
    np.testing.assert_allclose(pts[:-1] - pts[1:], s.factor * np.log(odds[1:] / odds[:-1]),
                               rtol=1e-9)
    np.testing.assert_allclose(s.points_from_logit(np.log(p / (1 - p))), pts)


def test_invalid_scale_is_refused() -> None:
    with pytest.raises(ValueError):
        PointsScale(base_score=600, base_odds=50, pdo=0)


def test_grades_are_probability_bands_with_a_bound_going_to_the_worse_grade() -> None:
    cuts = GradeCuts(a_max_pd=0.01, b_max_pd=0.03, c_max_pd=0.10)
    p = np.array([0.0, 0.0099, 0.01, 0.0299, 0.03, 0.0999, 0.10, 0.9])
    assert list(cuts.grade(p)) == ["A", "A", "B", "B", "C", "C", "D", "D"]
    assert cuts.bands() == [("A", 0.0, 0.01), ("B", 0.01, 0.03), ("C", 0.03, 0.10),
                            ("D", 0.10, 1.0)]


def test_grade_bands_must_rise_inside_zero_one() -> None:
    with pytest.raises(ValueError, match="strictly"):
        GradeCuts(a_max_pd=0.03, b_max_pd=0.03, c_max_pd=0.1)
    with pytest.raises(ValueError, match="strictly"):
        GradeCuts(a_max_pd=0.01, b_max_pd=0.03, c_max_pd=1.0)
