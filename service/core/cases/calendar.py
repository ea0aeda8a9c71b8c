"""Working days in mainland China: weekends, public holidays and the weekend days worked in
lieu, from the maintained ``chinese-calendar`` package (the State Council publishes each
year's arrangement in the autumn before; the package follows).

Legal deadlines (an objection window of 15 working days, an answer within 10) are counted in
working days. A date beyond the package's last published year is counted as Monday–Friday
less the holidays fixed by solar date in 《全国年节及纪念日放假办法》 (1 January, 1–2 May,
1–3 October), and reported as provisional: the lunar holidays and the weekend days worked in
lieu are only known once the State Council publishes the year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")  # legal deadlines are counted in China's days
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


def _published_years() -> range:
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


@dataclass(frozen=True)
class Deadline:
    day: date  # the last day on which the act is still in time
    provisional: bool  # counted over a year whose holidays are not yet published


class WorkCalendar:
    def __init__(self) -> None:
        self.published = _published_years()

    def covered(self, day: date) -> bool:
        return day.year in self.published

    def is_workday(self, day: date) -> bool:
        if self.covered(day):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    def add_workdays(self, start: date, n: int) -> Deadline:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted)."""
        if n < 0:
            raise ValueError("a deadline counts forward: n must be >= 0")
        day, left, provisional = start, n, not self.covered(start)
        while left:
            day += timedelta(days=1)
            provisional = provisional or not self.covered(day)
            if self.is_workday(day):
                left -= 1
        return Deadline(day, provisional)


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()
