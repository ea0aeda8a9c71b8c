"""Comparison groups, normalisation, totals and ranks on hand-made values."""

from __future__ import annotations

import pandas as pd
import pytest

from models.assessment.ranking import group_keys, normalise, rank_groups
from tests.models.assessment.support import config, frame

ROWS = {
    "U1": ("university", "110000", 10.0, 5.0),
    "U2": ("university", "110000", 20.0, None),  # b unknown: left out of its total
    "U3": ("university", "310000", 20.0, 12.0),  # b above its limit of 10
    "U4": ("university", "110000", 40.0, 1.0),
    "W1": ("university", "530000", 30.0, 2.0),  # alone in the west: compared with its type
    "R1": ("research_institute", "530000", 5.0, 3.0),
    "R2": ("research_institute", "530000", 5.0, 3.0),  # tied with R1
    "R3": ("research_institute", "530000", 1.0, 8.0),
    "P1": ("private", "110000", 7.0, 4.0),  # alone of its type: compared with everyone
}


def test_percentile_scores_count_ties_half_and_reverse_lower_is_better() -> None:
    c = config()
    a, b = c.indicators
    values = pd.Series([10.0, 20.0, 20.0, 40.0, None])
    assert normalise(values, a, c.method).tolist()[:4] == [0.0, 50.0, 50.0, 100.0]
    assert pd.isna(normalise(values, a, c.method).iloc[4])
    assert normalise(values, b, c.method).tolist()[:4] == [100.0, 50.0, 50.0, 0.0]
    assert normalise(pd.Series([3.0]), a, c.method).tolist() == [50.0]
    assert normalise(pd.Series([3.0, 3.0]), a, c.method).tolist() == [50.0, 50.0]


def test_minmax_scores_keep_distances() -> None:
    c = config(normalisation="minmax")
    a, b = c.indicators
    values = pd.Series([10.0, 20.0, 40.0])
    assert normalise(values, a, c.method).round(2).tolist() == [0.0, 33.33, 100.0]
    assert normalise(values, b, c.method).round(2).tolist() == [100.0, 66.67, 0.0]
    assert normalise(pd.Series([5.0, 5.0]), a, c.method).tolist() == [50.0, 50.0]


def test_small_groups_fall_back_to_the_type_then_to_everyone() -> None:
    keys = group_keys(frame(ROWS), min_size=2)
    assert keys.to_dict() == {
        "U1": "university/east", "U2": "university/east", "U3": "university/east",
        "U4": "university/east", "W1": "university", "R1": "research_institute/west",
        "R2": "research_institute/west", "R3": "research_institute/west", "P1": "all"}


def test_totals_ranks_and_ties_within_groups() -> None:
    standings = {s.institution_id: s for s in rank_groups(config(), frame(ROWS))}
    east = {i: (standings[i].total, standings[i].rank, standings[i].group_size)
            for i in ("U1", "U2", "U3", "U4")}
    # a: 10, 20, 20, 40 -> 0, 50, 50, 100; b (lower): U3 12 -> 0, U1 5 -> 50, U4 1 -> 100
    assert east == {"U1": (20.0, 4, 4), "U2": (50.0, 2, 4), "U3": (30.0, 3, 4),
                    "U4": (100.0, 1, 4)}
    u2 = standings["U2"].indicators[1]
    assert (u2.value, u2.score, u2.note_en) == (None, None, "no data: left out of the total")
    u3 = standings["U3"].indicators[1]
    assert u3.breach and (u3.note_zh, u3.note_en) == ("高于10%的要求", "above the required 10%")
    assert (u3.group_median, u3.median_score) == (5.0, 50.0)
    w1 = standings["W1"]  # a 75 among five universities, b 66.67 among the four known
    assert (w1.group, w1.group_size, w1.rank, w1.total) == ("university", 5, 2, 71.6667)
    r = [(standings[i].total, standings[i].rank) for i in ("R1", "R2", "R3")]
    assert r == [(75.0, 1), (75.0, 1), (0.0, 3)]
    assert (standings["P1"].group, standings["P1"].group_size) == ("all", 9)


@pytest.mark.parametrize("report_year", [None, 2019])
def test_a_missing_value_scores_zero_and_says_why(report_year: int | None) -> None:
    rows = {"X1": ("university", "110000", None, 5.0), "X2": ("university", "110000", 3.0, 5.0)}
    s = rank_groups(config(), frame(rows, report_year))[0]
    line = s.indicators[0]
    assert (line.value, line.score, s.total) == (None, 0.0, 20.0)
    assert line.note_en == ("no annual report by the year's end: scores 0" if report_year is None
                            else "no data: scores 0")
