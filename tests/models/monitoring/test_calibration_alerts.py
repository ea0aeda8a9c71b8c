"""Calibration by grade with exact binomial intervals, and the month's bilingual alert."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.monitoring.alerts import month_alert
from models.monitoring.calibration import binomial_interval, calibration_by_grade
from models.monitoring.drift import DriftResult, Level, Thresholds
from models.monitoring.reference import Kind


def test_clopper_pearson_matches_the_tables() -> None:
    assert binomial_interval(5, 50) == pytest.approx((0.03327, 0.21814), abs=1e-4)
    low, high = binomial_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 100))
    assert binomial_interval(10, 10)[1] == 1.0
    with pytest.raises(ValueError):
        binomial_interval(0, 0)


def test_observed_against_predicted_per_grade() -> None:
    scores = pd.DataFrame({"grade": ["A"] * 100 + ["C"] * 50 + ["D"] * 10,
                           "probability": [0.01] * 100 + [0.10] * 50 + [0.20] * 10})
    labels = np.r_[np.zeros(100), np.ones(5), np.zeros(45), np.ones(9), np.zeros(1)]
    rows = calibration_by_grade(scores, labels)
    assert [(r.grade, r.n, r.bads) for r in rows] == [("A", 100, 0), ("C", 50, 5), ("D", 10, 9)]
    a, c, d = rows
    assert (a.predicted, a.observed) == (pytest.approx(0.01), 0.0) and a.in_line
    assert (c.observed, c.in_line) == (0.1, True)
    assert d.observed == 0.9 and not d.in_line and d.lower > 0.2
    with pytest.raises(ValueError, match="160 scores but 3 labels"):
        calibration_by_grade(scores, [0, 1, 0])


def _result(name: str, psi: float, level: Level) -> DriftResult:
    return DriftResult(name, Kind.numeric, 100, psi, 0.1, 0.1, 0.0, level)


def test_no_alert_when_all_ok_and_the_worst_level_otherwise() -> None:
    t = Thresholds()
    assert month_alert("2020-06", "m v1", [_result("score", 0.02, Level.ok)], t, True) is None
    watch = month_alert("2020-06", "m v1", [_result("score", 0.02, Level.ok),
                                           _result("x", 0.12, Level.watch)], t, True)
    assert (watch.level, watch.variables) == (Level.watch, ("x",))
    assert watch.message_en == ("2020-06 m v1 drift to watch (PSI ≥ 0.1): x 0.120. "
                                "Check again next month")
    assert watch.message_zh.startswith("2020-06 m v1 分布轻度漂移（PSI ≥ 0.1）：x 0.120")
    results = [_result(f"v{i}", 0.11 + i / 10, Level.act if i >= 2 else Level.watch)
               for i in range(7)]
    act = month_alert("2020-06", "m v1", results, t, True)
    assert act.level is Level.act and act.variables == tuple(f"v{i}" for i in range(6, -1, -1))
    assert "v6 0.710, v5 0.610, v4 0.510, v3 0.410, v2 0.310 and 2 more" in act.message_en
    assert "registered as challenger for review; the champion is unchanged" in act.message_en
    assert "冠军模型不变" in act.message_zh and "等7项" in act.message_zh
    off = month_alert("2020-06", "m v1", results, t, False)
    assert "automatic retraining is off" in off.message_en
