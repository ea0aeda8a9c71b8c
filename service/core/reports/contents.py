"""The view models that reports are rendered from.

They are the contract between the annual assessment (which fills them) and the report layer
(which only reads them): frozen, typed, and free of database or DataFrame types, so that a
report can be built in a test from literals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Outcome = Literal["pass", "warning", "exit"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "warning", "exit")


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator of one institution in one year."""

    code: str
    name_zh: str
    name_en: str
    category: str  # capacity | activity | performance | compliance | credit
    value: float | None
    unit: str
    weight: float  # share of the total, weights sum to 1
    direction: Literal["higher", "lower"]
    score: float  # 0–100, normalised within the comparable group
    group_median: float | None
    note_zh: str  # why it mattered, e.g. "低于组内中位数"
    note_en: str  # e.g. "below the group median"
    # the score the group median earns, drawn as a tick on the score bar; only the assessment
    # knows its normalisation, so it is optional and the tick is left out without it
    group_median_score: float | None = None


@dataclass(frozen=True)
class TrendPoint:
    year: int
    total: float
    rank: int | None
    group_size: int | None
    outcome: Outcome | None


@dataclass(frozen=True)
class InstitutionReport:
    year: int
    institution_id: str
    name: str
    institution_type: str  # features.standard.enums.INSTITUTION_TYPE code
    region: str  # GB/T 2260 province code
    group: str
    group_size: int
    rank: int
    total: float
    outcome: Outcome
    reasons_zh: list[str]
    reasons_en: list[str]
    indicators: list[IndicatorLine]
    trend: list[TrendPoint]
    state: str  # draft | published
    adjusted: bool
    published_at: datetime | None


@dataclass(frozen=True)
class InstitutionSummary:
    institution_id: str
    name: str
    institution_type: str
    region: str
    group: str
    rank: int
    group_size: int
    total: float
    outcome: Outcome


@dataclass(frozen=True)
class YearReport:
    year: int
    state: str
    published_at: datetime | None
    institutions: list[InstitutionSummary]  # every assessed institution
