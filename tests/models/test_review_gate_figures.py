"""The figures the review logs for the gate: what ``promote`` later re-reads."""

from __future__ import annotations

import math

import pandas as pd

from features.settings import GateThresholds
from models.gate import grade_metric, review_gate, segment_metric
from models.review import gate_figures

GRADES = pd.DataFrame(
    {"grade": ["A", "B", "D"], "n": [150, 900, 400], "observed": [0.067, 0.039, 0.3]}
)
SEGMENTS = pd.DataFrame(
    {
        "segment": ["region", "entity_kind", "entity_kind"],
        "level": ["440000", "broker", "institution"],
        "n": [300, 900, 550],
        "bad_rate": [0.1, 0.12, 0.05],
        "auc": [0.7, 0.66, 0.85],
        "baseline_auc": [0.69, 0.70, 0.80],
    }
)


def test_grades_and_the_gate_segment_become_run_metrics() -> None:
    m = gate_figures(GRADES, SEGMENTS, "entity_kind")
    assert m[grade_metric("A", "n")] == 150 and m[grade_metric("B", "bad_rate")] == 0.039
    assert m[grade_metric("C", "n")] == 0 and math.isnan(m[grade_metric("C", "bad_rate")])
    assert m[segment_metric("entity_kind", "broker", "baseline_auc")] == 0.70
    assert m[segment_metric("entity_kind", "institution", "n")] == 550
    assert not any(k.startswith("segment/region/") for k in m)


def test_gate_on_logged_figures_fails_the_grade_inversion_and_the_weak_segment() -> None:
    metrics = {
        "test_auc": 0.75,
        "score_psi": 0.05,
        "test_calibration_ratio": 1.0,
        "baseline_auc": 0.74,
        **gate_figures(GRADES, SEGMENTS, "entity_kind"),
    }
    d = review_gate(metrics, GateThresholds())
    assert {c.name for c in d.checks if not c.passed} == {
        "grade_B_bad_rate",
        "segment entity_kind=broker auc",
    }


def test_segments_without_baseline_are_judged_on_the_floor_only() -> None:
    seg = SEGMENTS.drop(columns=["baseline_auc"])
    m = gate_figures(GRADES.iloc[[1, 2]], seg, "entity_kind")
    d = review_gate(m, GateThresholds())
    broker = next(c for c in d.checks if c.name == "segment entity_kind=broker auc")
    assert broker.passed and broker.rule == ">= 0.6"
