"""The year report's aggregates add up to its institutions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.core.reports.contents import YearReport
from service.core.reports.stats import histogram, outcome_totals, outcomes_by


def test_histogram_bins_every_total_once_and_keeps_empty_bins() -> None:
    bins = histogram([0.0, 9.99, 10.0, 55.0, 99.9, 100.0])
    assert [(b.lo, b.hi) for b in bins][:2] == [(0.0, 10.0), (10.0, 20.0)]
    assert [b.count for b in bins] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]  # 100 is in the last bin
    assert sum(b.count for b in histogram([])) == 0 and len(histogram([])) == 10


def test_histogram_with_a_width_that_does_not_divide_the_scale() -> None:
    bins = histogram([95.0, 100.0], width=30.0)
    assert [(b.lo, b.hi, b.count) for b in bins] == [
        (0.0, 30.0, 0), (30.0, 60.0, 0), (60.0, 90.0, 0), (90.0, 100.0, 2)
    ]


@pytest.mark.parametrize("bad", [-0.1, 100.5, float("nan")])
def test_a_total_off_the_scale_is_an_error_not_a_dropped_institution(bad: float) -> None:
    with pytest.raises(ValueError, match="outside the score scale"):
        histogram([50.0, bad])


def test_outcome_totals(year: YearReport) -> None:
    assert outcome_totals(year.institutions) == {"pass": 4, "warning": 2, "exit": 2}
    assert outcome_totals([]) == {"pass": 0, "warning": 0, "exit": 0}


def test_outcomes_by_region_in_gb_order(year: YearReport) -> None:
    rows = outcomes_by(year.institutions, "region")
    assert [r.code for r in rows] == ["110000", "310000", "440000", "610000"]
    assert rows[0].counts == {"pass": 2, "warning": 1, "exit": 0}
    assert rows[1].counts == {"pass": 1, "warning": 0, "exit": 1}
    assert sum(r.total for r in rows) == len(year.institutions)


def test_outcomes_by_type_in_the_standards_order(year: YearReport) -> None:
    rows = outcomes_by(year.institutions, "institution_type")
    assert [r.code for r in rows] == [
        "university", "research_institute", "enterprise", "public_platform", "private"
    ]
    assert {r.code: r.counts["exit"] for r in rows}["private"] == 1
    assert sum(r.total for r in rows) == len(year.institutions)


def test_an_unknown_code_raises_instead_of_vanishing(year: YearReport) -> None:
    odd = replace(year.institutions[0], region="999999")
    with pytest.raises(ValueError, match="999999"):
        outcomes_by([*year.institutions, odd], "region")
