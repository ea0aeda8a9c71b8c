"""Working-day deadlines across Chinese public holidays and make-up working days."""

from __future__ import annotations

from datetime import date

import pytest

from service.core.cases.calendar import WorkCalendar

CAL = WorkCalendar()


def test_fifteen_working_days_across_national_day_count_the_saturday_worked_in_lieu() -> None:
    # Notice on Monday 2026-09-28: 29, 30 Sep; 1–7 Oct off; 8, 9, Saturday 10 Oct worked;
    # then 12–16 and 19–23 Oct. Weekdays alone would give 19 Oct.
    assert CAL.add_workdays(date(2026, 9, 28), 15).day == date(2026, 10, 23)
    assert CAL.is_workday(date(2026, 10, 10)) and not CAL.is_workday(date(2026, 10, 5))


def test_spring_festival_is_skipped() -> None:
    assert not CAL.is_workday(date(2026, 2, 17))
    # Friday 13 Feb, then Saturday 14th is worked in lieu; 15–23 Feb are off
    assert CAL.add_workdays(date(2026, 2, 13), 1).day == date(2026, 2, 14)
    deadline = CAL.add_workdays(date(2026, 2, 13), 2)
    assert deadline.day == date(2026, 2, 24) and not deadline.provisional


def test_a_year_without_published_holidays_counts_weekdays_and_says_provisional() -> None:
    last = max(CAL.published)
    start = date(last, 12, 28)
    deadline = CAL.add_workdays(start, 10)
    assert deadline.provisional
    assert deadline.day.year == last + 1 and deadline.day.weekday() < 5
    assert not CAL.add_workdays(date(2026, 3, 2), 5).provisional
    new_year = date(last + 1, 1, 1)
    assert not CAL.is_workday(new_year) and not CAL.is_workday(date(last + 1, 10, 2))


def test_zero_days_is_the_start_and_negative_is_refused() -> None:
    assert CAL.add_workdays(date(2026, 3, 2), 0).day == date(2026, 3, 2)
    with pytest.raises(ValueError, match="n must be >= 0"):
        CAL.add_workdays(date(2026, 3, 2), -1)
