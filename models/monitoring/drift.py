"""A month against the reference: PSI, binned KS and Jensen–Shannon distance and test per
variable.

PSI is what credit validators act on (0.10 watch, 0.25 act, the usual reading); KS (the
largest gap between the cumulative shares over the ordered bins; not for categories, which
have no order) and the Jensen–Shannon distance (base 2: 0 identical, 1 disjoint) say the same
on bounded scales. All are read on the reference's fixed bins: the reference keeps no rows.

PSI alone over-reads small populations: with ``k`` bins and ``n`` rows its expectation under
no change at all is about ``k / n``, so a month of 100 entities on 11 bins sits near 0.1, and
an empty bin floored at :data:`EPS` adds more. A level above ok therefore also needs the shift
to be beyond sampling noise: the Jensen–Shannon test, i.e. the G-test of homogeneity on the
two samples' bin counts (2·N times the JS divergence weighted by the sample sizes), at
``alpha``. With the thousands of entities a month of the real market has, any PSI ≥ 0.1 is
significant and the levels are the PSI thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

from features.settings import DriftSettings
from models.monitoring.reference import Kind, Reference, VariableReference

# Empty bins are floored at this share before the logarithm, as models.metrics.psi does, so
# that monitoring and the review gate give the same PSI on the same bins.
EPS = 1e-6


class Level(StrEnum):
    ok = "ok"
    watch = "watch"
    act = "act"


LEVEL_ORDER = (Level.ok, Level.watch, Level.act)


class Thresholds(DriftSettings):
    """The drift settings (PSI thresholds, both inclusive: PSI ≥ ``watch`` is watch, PSI ≥
    ``act`` is act; a shift counts only with a p-value strictly below ``alpha``) reading the
    level of one variable."""

    def level(self, psi: float, p_value: float) -> Level:
        if p_value >= self.alpha or psi < self.watch:
            return Level.ok
        return Level.act if psi >= self.act else Level.watch


def worst(levels: list[Level]) -> Level:
    """The most severe of the levels (ok when there are none)."""
    return max(levels, key=LEVEL_ORDER.index, default=Level.ok)


@dataclass(frozen=True)
class DriftResult:
    variable: str
    kind: Kind
    n: int  # rows of the month
    psi: float
    ks: float | None  # None for categorical variables
    js: float
    p_value: float  # Jensen–Shannon (G-) test of the month's bin counts against the reference's
    level: Level


def psi_of(expected: np.ndarray, actual: np.ndarray) -> float:
    """Σ (a − e)·ln(a / e) over bins, empty bins floored at :data:`EPS`."""
    e, a = np.maximum(expected, EPS), np.maximum(actual, EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def binned_ks(expected: np.ndarray, actual: np.ndarray) -> float:
    """Largest gap between the cumulative shares over the bins in order (missing last)."""
    return float(np.max(np.abs(np.cumsum(expected) - np.cumsum(actual))))


def js_test(expected_counts: np.ndarray, actual_counts: np.ndarray) -> float:
    """p-value of the G-test that both samples' bin counts come from one distribution; bins
    empty in both are left out, and a single remaining bin leaves nothing to differ (1.0)."""
    table = np.vstack([expected_counts, actual_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 1.0
    return float(chi2_contingency(table, correction=False, lambda_="log-likelihood").pvalue)


def compare(ref: VariableReference, rows: int, values: pd.Series | np.ndarray,
            thresholds: Thresholds) -> DriftResult:
    """One variable of the month against its reference (fitted on ``rows`` rows)."""
    expected = np.asarray(ref.expected, dtype=float)
    counts = ref.counts(values)
    actual = counts / max(counts.sum(), 1.0)
    value = psi_of(expected, actual)
    ks = None if ref.kind is Kind.categorical else binned_ks(expected, actual)
    js = float(jensenshannon(expected, actual, base=2))
    p = js_test(expected * rows, counts)
    return DriftResult(ref.name, ref.kind, int(counts.sum()), value, ks, js, p,
                       thresholds.level(value, p))


def drift(reference: Reference, month: pd.DataFrame, thresholds: Thresholds | None = None
          ) -> list[DriftResult]:
    """Every reference variable on the month's rows (``month`` holds a column per variable),
    in the reference's order: the score first; judged on the default thresholds unless
    others are given."""
    if not len(month):
        raise ValueError("the month has no rows: drift cannot be judged on nothing")
    missing = [v.name for v in reference.variables if v.name not in month.columns]
    if missing:
        raise KeyError(f"monitored columns missing from the month's rows: {missing}")
    t = thresholds or Thresholds()
    return [compare(v, reference.rows, month[v.name], t) for v in reference.variables]
