"""The review gate a model must pass before it may become champion (pure decision).

Thresholds come from settings; the registry layer applies the decision and records it. An
override is possible but never silent: it is stored with the reviewer's name and note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GateThresholds:
    min_auc: float = 0.70
    max_psi: float = 0.25
    min_calibration_ratio: float = 0.75  # expected / observed bads on the test period
    max_calibration_ratio: float = 1.33


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    rule: str
    passed: bool


@dataclass(frozen=True)
class GateDecision:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c.name} = {c.value:.4f} violates {c.rule}" for c in self.checks if not c.passed]

    def as_dict(self) -> dict:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}


# the run metrics the gate reads (logged by the training flow under these names)
AUC_METRIC = "test_auc"
PSI_METRIC = "score_psi"
CALIBRATION_METRIC = "test_calibration_ratio"


def review_gate(metrics: Mapping[str, float], t: GateThresholds) -> GateDecision:
    """Pass only if discrimination, stability and calibration all hold; missing = failed."""

    def get(name: str) -> float:
        v = metrics.get(name)
        return float("nan") if v is None else float(v)

    auc, psi, ratio = get(AUC_METRIC), get(PSI_METRIC), get(CALIBRATION_METRIC)

    def ok(v: float, cond: bool) -> bool:  # NaN never passes
        return not math.isnan(v) and cond

    return GateDecision(
        (
            Check(AUC_METRIC, auc, f">= {t.min_auc}", ok(auc, auc >= t.min_auc)),
            Check(PSI_METRIC, psi, f"<= {t.max_psi}", ok(psi, psi <= t.max_psi)),
            Check(
                CALIBRATION_METRIC,
                ratio,
                f"in [{t.min_calibration_ratio}, {t.max_calibration_ratio}]",
                ok(ratio, t.min_calibration_ratio <= ratio <= t.max_calibration_ratio),
            ),
        )
    )
