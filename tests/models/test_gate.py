"""The review gate: a pure decision on the run's logged test-period metrics."""

from __future__ import annotations

import math

from features.settings import GateThresholds
from models.gate import (
    CURRENT_CHAMPION_KEY,
    KFOLD_METRIC,
    GateDecision,
    grade_metric,
    review_gate,
    segment_metric,
)

T = GateThresholds(min_auc=0.7, max_psi=0.25, min_calibration_ratio=0.8, max_calibration_ratio=1.25)


def _grades(**rates: tuple[int, float]) -> dict[str, float]:
    out = {}
    for g, (n, rate) in rates.items():
        out[grade_metric(g, "n")] = n
        out[grade_metric(g, "bad_rate")] = rate
    return out


GRADES_OK = _grades(A=(400, 0.01), B=(300, 0.03), C=(200, 0.08), D=(100, 0.25))
GOOD = {
    "test_auc": 0.82,
    "score_psi": 0.05,
    "test_calibration_ratio": 1.02,
    "baseline_auc": 0.80,
    **GRADES_OK,
}


def _failed(d: GateDecision) -> set[str]:
    return {c.name for c in d.checks if not c.passed}


def test_gate_passes_a_model_within_every_threshold() -> None:
    d = review_gate(GOOD, T)
    assert d.passed and d.failures == []
    names = [c.name for c in d.checks]
    assert names[:5] == [
        "test_auc",
        "score_psi",
        "test_calibration_ratio",
        "auc_vs_baseline",
        "auc_vs_champion",
    ]
    champion = next(c for c in d.checks if c.name == "auc_vs_champion")
    assert champion.skipped == "no champion" and champion.passed
    baseline = next(c for c in d.checks if c.name == "auc_vs_baseline")
    assert math.isclose(baseline.value, 0.02)


def test_gate_refuses_weak_unstable_or_miscalibrated_models() -> None:
    assert review_gate({**GOOD, "test_auc": 0.69, "baseline_auc": 0.6}, T).failures == [
        "test_auc = 0.6900 violates >= 0.7"
    ]
    assert not review_gate({**GOOD, "score_psi": 0.3}, T).passed
    assert not review_gate({**GOOD, "test_calibration_ratio": 1.3}, T).passed
    assert not review_gate({**GOOD, "test_calibration_ratio": 0.7}, T).passed


def test_missing_or_nan_metrics_fail_rather_than_pass() -> None:
    d = review_gate({"test_auc": 0.9, "test_calibration_ratio": float("nan")}, T)
    assert not d.passed
    assert _failed(d) == {
        "score_psi",
        "test_calibration_ratio",
        "auc_vs_baseline",
        "grades_judged",
    }
    assert d.as_dict()["passed"] is False


def test_grades_that_do_not_rank_order_fail() -> None:
    # the case seen on the synthetic market: A's observed bad rate above B's
    d = review_gate({**GOOD, **_grades(A=(150, 0.067), B=(900, 0.039))}, T)
    assert _failed(d) == {"grade_B_bad_rate"}
    b = next(c for c in d.checks if c.name == "grade_B_bad_rate")
    assert b.n == 900 and b.rule == "> grade_A_bad_rate (0.0670)"
    # equal rates are not an order either
    assert not review_gate({**GOOD, **_grades(C=(200, 0.03))}, T).passed


def test_empty_and_thin_grades_are_reported_and_skipped() -> None:
    metrics = {**GOOD, **_grades(A=(0, float("nan")), B=(12, 0.5))}
    d = review_gate(metrics, T)
    assert d.passed
    a, b = (next(c for c in d.checks if c.name == grade_metric(g, "bad_rate")) for g in "AB")
    assert a.skipped == "no rows" and a.n == 0
    assert b.skipped == "12 rows < 30: too few to judge" and b.n == 12
    c = next(c for c in d.checks if c.name == "grade_C_bad_rate")
    assert c.rule == "first grade judged"
    # one grade alone (others empty or never logged) proves no order: the gate fails
    lone = {k: v for k, v in GOOD.items() if not k.startswith("grade_")}
    assert _failed(review_gate({**lone, **_grades(D=(500, 0.2))}, T)) == {"grades_judged"}


def test_lightgbm_may_not_lose_to_baseline_or_champion_beyond_tolerance() -> None:
    assert review_gate({**GOOD, "baseline_auc": 0.824}, T).passed  # within 0.005
    assert _failed(review_gate({**GOOD, "baseline_auc": 0.83}, T)) == {"auc_vs_baseline"}
    champ = {"champion_version": 3, "champion_auc": 0.84, CURRENT_CHAMPION_KEY: 3}
    assert _failed(review_gate({**GOOD, **champ}, T)) == {"auc_vs_champion"}
    assert review_gate({**GOOD, **champ, "champion_auc": 0.822}, T).passed


def test_a_comparison_with_a_champion_no_longer_in_force_fails() -> None:
    compared = {"champion_version": 3, "champion_auc": 0.80}
    d = review_gate({**GOOD, **compared, CURRENT_CHAMPION_KEY: 4}, T)
    assert _failed(d) == {"champion_compared"}
    # trained before any champion existed, promoted after one was set
    assert _failed(review_gate({**GOOD, CURRENT_CHAMPION_KEY: 1}, T)) == {"champion_compared"}


def test_segments_below_floor_or_baseline_are_flagged_and_block() -> None:
    def seg(level: str, n: int, auc: float, base: float) -> dict[str, float]:
        return {
            segment_metric("entity_kind", level, "n"): n,
            segment_metric("entity_kind", level, "auc"): auc,
            segment_metric("entity_kind", level, "baseline_auc"): base,
        }

    ok = seg("institution", 500, 0.86, 0.82)
    assert review_gate({**GOOD, **ok, **seg("broker", 900, 0.70, 0.703)}, T).passed
    below_base = review_gate({**GOOD, **ok, **seg("broker", 900, 0.66, 0.70)}, T)
    assert [c.name for c in below_base.flagged_segments] == ["segment entity_kind=broker auc"]
    assert not below_base.passed and below_base.flagged_segments[0].n == 900
    below_floor = review_gate({**GOOD, **ok, **seg("broker", 900, 0.58, 0.55)}, T)
    assert _failed(below_floor) == {"segment entity_kind=broker auc"}
    thin = review_gate({**GOOD, **seg("broker", 20, 0.3, 0.9)}, T)
    assert thin.passed and thin.checks[-1].skipped == "20 rows < 30"
    # other segment columns are reported, not gated
    other = {segment_metric("region", "440000", "auc"): 0.4, **GOOD}
    assert review_gate(other, T).passed


def test_decision_round_trips_through_its_stored_form() -> None:
    d = review_gate({**GOOD, "baseline_auc": 0.9, **_grades(A=(0, float("nan")))}, T)
    stored = d.as_dict()
    a = next(c for c in stored["checks"] if c["name"] == "grade_A_bad_rate")
    assert stored["failures"] == d.failures and a["value"] is None and a["skipped"] == "no rows"
    back = GateDecision.from_dict(stored)
    assert back.failures == d.failures and [c.name for c in back.checks] == [
        c.name for c in d.checks
    ]


def test_psi_is_not_applicable_to_kfold_figures_and_does_not_fail_them() -> None:
    kfold = {k: v for k, v in GOOD.items() if k != "score_psi"} | {KFOLD_METRIC: 1.0}
    decision = review_gate(kfold, T)
    (psi,) = [c for c in decision.checks if c.name == "score_psi"]
    assert psi.passed and "not applicable" in psi.skipped
    assert decision.passed
    # an out-of-time run without its PSI still fails
    assert not review_gate({k: v for k, v in GOOD.items() if k != "score_psi"}, T).passed
