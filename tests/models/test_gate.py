"""The review gate: a pure decision on the run's test-period metrics."""

from __future__ import annotations

from models.gate import GateThresholds, review_gate

T = GateThresholds(min_auc=0.7, max_psi=0.25, min_calibration_ratio=0.8, max_calibration_ratio=1.25)
GOOD = {"test_auc": 0.82, "score_psi": 0.05, "test_calibration_ratio": 1.02}


def test_gate_passes_a_model_within_every_threshold() -> None:
    d = review_gate(GOOD, T)
    assert d.passed and d.failures == []
    assert [c.name for c in d.checks] == ["test_auc", "score_psi", "test_calibration_ratio"]


def test_gate_refuses_weak_unstable_or_miscalibrated_models() -> None:
    assert review_gate({**GOOD, "test_auc": 0.69}, T).failures == [
        "test_auc = 0.6900 violates >= 0.7"
    ]
    assert not review_gate({**GOOD, "score_psi": 0.3}, T).passed
    assert not review_gate({**GOOD, "test_calibration_ratio": 1.3}, T).passed
    assert not review_gate({**GOOD, "test_calibration_ratio": 0.7}, T).passed


def test_missing_or_nan_metrics_fail_rather_than_pass() -> None:
    d = review_gate({"test_auc": 0.9, "test_calibration_ratio": float("nan")}, T)
    assert not d.passed
    assert {c.name for c in d.checks if not c.passed} == {"score_psi", "test_calibration_ratio"}
    assert d.as_dict()["passed"] is False
