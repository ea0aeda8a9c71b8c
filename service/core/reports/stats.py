"""The year report's aggregates, computed from its institutions by pure functions.

They are computed here rather than read from the assessment so that the figures printed in a
year report always add up to the institutions it lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from features.standard.enums import INSTITUTION_TYPE, REGION
from service.core.reports.contents import OUTCOMES, InstitutionSummary, Outcome


@dataclass(frozen=True)
class Bin:
    """Totals in ``[lo, hi)``; the last bin also holds ``hi`` itself (a total of 100)."""

    lo: float
    hi: float
    count: int


@dataclass(frozen=True)
class OutcomeRow:
    """How many institutions of one region or type passed, were warned, or exit."""

    code: str
    counts: dict[Outcome, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def histogram(totals: Sequence[float], width: float = 10.0, lo: float = 0.0,
              hi: float = 100.0) -> list[Bin]:
    """Equal-width bins over the score scale; every bin is kept, empty ones too, so that years
    print on the same axis. Totals outside ``[lo, hi]`` are an assessment error and raise."""
    if width <= 0 or hi <= lo:
        raise ValueError("histogram needs a positive width and hi > lo")
    n = math.ceil((hi - lo) / width)
    counts = [0] * n
    for t in totals:
        if not lo <= t <= hi:
            raise ValueError(f"total {t} lies outside the score scale [{lo}, {hi}]")
        counts[min(int((t - lo) // width), n - 1)] += 1
    return [Bin(lo + i * width, min(lo + (i + 1) * width, hi), c) for i, c in enumerate(counts)]


def outcome_totals(institutions: Sequence[InstitutionSummary]) -> dict[Outcome, int]:
    """Counts of each outcome, every outcome present (zero included) in the standard order."""
    counts: dict[Outcome, int] = dict.fromkeys(OUTCOMES, 0)
    for i in institutions:
        counts[i.outcome] += 1
    return counts


def outcomes_by(institutions: Sequence[InstitutionSummary],
                key: Literal["region", "institution_type"]) -> list[OutcomeRow]:
    """Outcome counts per region or per type, in the standard's code order (GB/T 2260 order
    for provinces), listing only codes that have institutions; a code outside the standard
    raises."""
    order = (REGION if key == "region" else INSTITUTION_TYPE).codes
    groups: dict[str, list[InstitutionSummary]] = {}
    for i in institutions:
        groups.setdefault(getattr(i, key), []).append(i)
    unknown = sorted(set(groups) - set(order))
    if unknown:  # dropping them would print rows that no longer add up to the total
        raise ValueError(f"{key} codes not in the data standard: {unknown}")
    return [OutcomeRow(code, outcome_totals(groups[code])) for code in order if code in groups]
