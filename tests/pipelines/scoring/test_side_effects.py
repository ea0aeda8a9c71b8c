"""A backfill writes scores only unless asked; a current run writes warnings and cases unless
switched off; cases never without warnings."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.scoring.side_effects import (
    SideEffects,
    SideEffectsRefused,
    check_switches,
    side_effects,
)

LATEST = date(2020, 9, 30)


@pytest.mark.parametrize(("as_of", "latest", "backfill", "expected"), [
    (date(2020, 9, 30), None, False, SideEffects(False, True, True)),  # first run ever
    (date(2020, 9, 30), LATEST, False, SideEffects(False, True, True)),  # a re-run
    (date(2020, 10, 31), LATEST, False, SideEffects(False, True, True)),  # the next month
    (date(2020, 6, 30), LATEST, False, SideEffects(True, False, False)),  # the past
    (date(2020, 10, 31), LATEST, True, SideEffects(True, False, False)),  # asked to be one
    (date(2020, 6, 30), None, True, SideEffects(True, False, False)),  # on an empty database
])
def test_the_default_follows_the_date(as_of: date, latest: date | None, backfill: bool,
                                      expected: SideEffects) -> None:
    assert side_effects(as_of, latest, backfill=backfill) == expected


def test_a_backfill_writes_what_is_asked_for() -> None:
    past = date(2020, 6, 30)
    assert side_effects(past, LATEST, warnings=True) == SideEffects(True, True, False)
    assert side_effects(past, LATEST, warnings=True, cases=True) == SideEffects(True, True, True)
    assert side_effects(LATEST, LATEST, warnings=False) == SideEffects(False, False, False)
    assert side_effects(LATEST, LATEST, cases=False) == SideEffects(False, True, False)


@pytest.mark.parametrize("warnings", [False, None])
def test_cases_need_warnings(warnings: bool | None) -> None:
    """Refused whether warnings are switched off or off by default (a backfill)."""
    with pytest.raises(SideEffectsRefused, match="--cases needs --warnings"):
        side_effects(date(2020, 6, 30), LATEST, warnings=warnings, cases=True)


def test_switches_are_checked_before_the_date_is_known() -> None:
    check_switches(None, True)  # a current run's warnings are on by default
    check_switches(True, True)
    with pytest.raises(SideEffectsRefused, match="--cases needs --warnings"):
        check_switches(False, True)


def test_the_summary_line_says_what_was_written() -> None:
    assert "scores only" in SideEffects(True, False, False).describe()
    assert "回溯评分 backfill" in SideEffects(True, False, False).describe()
    assert "no cases" in SideEffects(True, True, False).describe()
    assert SideEffects(False, True, True).describe().startswith("当期评分 current run")
