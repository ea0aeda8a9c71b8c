"""The review gate a model must pass before it may become champion (pure decision).

It reads only the run's logged metrics, so that ``promote`` — days after training, in another
process — decides on exactly the figures the review report showed. Thresholds come from
settings; the register layer applies the decision and records it. An override is possible but
never silent: it is stored with the reviewer's name and note.

A missing or NaN figure fails, except where "nothing to judge" is a legitimate state (a grade
nobody falls in, no champion yet); those checks are kept in the decision, marked skipped, so
the reviewer sees what was not judged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from features.settings import GateThresholds

GRADES = ("A", "B", "C", "D")

# the run metrics the gate reads (logged by the training flow under these names)
AUC_METRIC = "test_auc"
PSI_METRIC = "score_psi"
CALIBRATION_METRIC = "test_calibration_ratio"
BASELINE_AUC_METRIC = "baseline_auc"
CHAMPION_AUC_METRIC = "champion_auc"
CHAMPION_VERSION_METRIC = "champion_version"  # the champion the run was compared with
KFOLD_METRIC = "validation_kfold"  # 1: k-fold figures, no earlier period for a PSI
# not logged: ``promote`` adds the champion in force when the decision is taken
CURRENT_CHAMPION_KEY = "current_champion_version"


@dataclass(frozen=True)
class Check:
    """One rule: the figure, the rule in words, the outcome, and the rows behind the figure."""

    name: str
    value: float
    rule: str
    passed: bool
    n: int | None = None
    skipped: str = ""  # why the check could not be judged (then it does not block)


@dataclass(frozen=True)
class GateDecision:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c.name} = {c.value:.4f} violates {c.rule}" for c in self.checks if not c.passed]

    @property
    def flagged_segments(self) -> list[Check]:
        return [c for c in self.checks if c.name.startswith("segment ") and not c.passed]

    @classmethod
    def from_dict(cls, data: Mapping) -> GateDecision:
        """The decision as it was stored (``as_dict``); null values become NaN again."""
        return cls(
            tuple(
                Check(**{**c, "value": math.nan if c["value"] is None else float(c["value"])})
                for c in data["checks"]
            )
        )

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "failures": self.failures,
            "checks": [
                {**asdict(c), "value": c.value if math.isfinite(c.value) else None}
                for c in self.checks
            ],
        }


def grade_metric(grade: str, field: str) -> str:
    """``grade_A_n`` / ``grade_A_bad_rate``: rows and observed bad rate of a grade (test)."""
    return f"grade_{grade}_{field}"


def segment_metric(column: str, level: str, field: str) -> str:
    """``segment/entity_kind/broker/auc``: MLflow-safe name of one segment figure."""
    safe = re.sub(r"[^\w.\- ]", "_", str(level))
    return f"segment/{column}/{safe}/{field}"


def _nan(metrics: Mapping[str, float], name: str) -> float:
    v = metrics.get(name)
    return float("nan") if v is None else float(v)


def _ok(v: float, cond: bool) -> bool:  # NaN never passes
    return not math.isnan(v) and cond


def grade_checks(metrics: Mapping[str, float], min_rows: int) -> list[Check]:
    """Observed bad rate strictly rising from A to D over the grades with enough rows."""
    checks, previous = [], None
    for g in GRADES:
        name, rate = grade_metric(g, "bad_rate"), _nan(metrics, grade_metric(g, "bad_rate"))
        n = int(metrics.get(grade_metric(g, "n"), 0))
        if n == 0 or n < min_rows:
            why = "no rows" if n == 0 else f"{n} rows < {min_rows}: too few to judge"
            checks.append(Check(name, rate, "rises from A to D", True, n, why))
            continue
        if previous is None:
            checks.append(Check(name, rate, "first grade judged", _ok(rate, True), n))
        else:
            p_name, p_rate = previous
            rule = f"> {p_name} ({p_rate:.4f})"
            checks.append(Check(name, rate, rule, _ok(rate, rate > p_rate), n))
        previous = (grade_metric(g, "bad_rate"), rate)
    judged = sum(1 for c in checks if not c.skipped)
    checks.append(
        Check(
            "grades_judged",
            float(judged),
            f">= 2 grades with >= {min_rows} rows",
            judged >= 2,
        )
    )
    return checks


def comparison_checks(metrics: Mapping[str, float], tol: float) -> list[Check]:
    """Not worse than the scorecard, nor than the champion scored on the same rows."""
    auc = _nan(metrics, AUC_METRIC)
    gap = auc - _nan(metrics, BASELINE_AUC_METRIC)
    checks = [Check("auc_vs_baseline", gap, f">= -{tol}", _ok(gap, gap >= -tol))]
    logged = metrics.get(CHAMPION_VERSION_METRIC)
    current = metrics.get(CURRENT_CHAMPION_KEY)
    if logged is None:
        checks.append(Check("auc_vs_champion", math.nan, f">= -{tol}", True, None, "no champion"))
    else:
        gap = auc - _nan(metrics, CHAMPION_AUC_METRIC)
        checks.append(Check("auc_vs_champion", gap, f">= -{tol}", _ok(gap, gap >= -tol)))
    if current is not None:
        compared = math.nan if logged is None else float(logged)
        rule = f"compared with the champion in force (v{int(current)})"
        checks.append(Check("champion_compared", compared, rule, compared == float(current)))
    return checks


def segment_checks(metrics: Mapping[str, float], t: GateThresholds) -> list[Check]:
    """A segment is flagged when its AUC is below the floor or below the baseline's there."""
    prefix = f"segment/{t.segment}/"
    levels = sorted({k[len(prefix) :].rsplit("/", 1)[0] for k in metrics if k.startswith(prefix)})
    checks = []
    for level in levels:
        auc = _nan(metrics, segment_metric(t.segment, level, "auc"))
        base = _nan(metrics, segment_metric(t.segment, level, "baseline_auc"))
        n = int(_nan(metrics, segment_metric(t.segment, level, "n")))
        name = f"segment {t.segment}={level} auc"
        if n < t.min_rows or math.isnan(auc):
            why = f"{n} rows < {t.min_rows}" if n < t.min_rows else "one class only"
            checks.append(Check(name, auc, "not judged", True, n, why))
            continue
        rule, floor = f">= {t.min_segment_auc}", t.min_segment_auc
        if not math.isnan(base):
            rule += f" and >= baseline {base:.4f} - {t.auc_tolerance}"
            floor = max(floor, base - t.auc_tolerance)
        checks.append(Check(name, auc, rule, auc >= floor, n))
    return checks


def psi_check(metrics: Mapping[str, float], max_psi: float) -> Check:
    """Score PSI train → test; not applicable to k-fold figures (a table without time has no
    earlier and later period), so it is skipped there, not failed."""
    psi = _nan(metrics, PSI_METRIC)
    if metrics.get(KFOLD_METRIC) == 1.0:
        return Check(PSI_METRIC, psi, f"<= {max_psi}", True, None,
                     "not applicable: k-fold validation has no training and test periods")
    return Check(PSI_METRIC, psi, f"<= {max_psi}", _ok(psi, psi <= max_psi))


def review_gate(metrics: Mapping[str, float], t: GateThresholds) -> GateDecision:
    """Every check listed; the gate passes only if none fails."""
    auc, ratio = (_nan(metrics, m) for m in (AUC_METRIC, CALIBRATION_METRIC))
    return GateDecision(
        (
            Check(AUC_METRIC, auc, f">= {t.min_auc}", _ok(auc, auc >= t.min_auc)),
            psi_check(metrics, t.max_psi),
            Check(
                CALIBRATION_METRIC,
                ratio,
                f"in [{t.min_calibration_ratio}, {t.max_calibration_ratio}]",
                _ok(ratio, t.min_calibration_ratio <= ratio <= t.max_calibration_ratio),
            ),
            *comparison_checks(metrics, t.auc_tolerance),
            *grade_checks(metrics, t.min_rows),
            *segment_checks(metrics, t),
        )
    )
