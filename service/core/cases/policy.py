"""The case policy: legal windows and publication periods, read once from the settings.

Kept apart from the state machine so that a province with other periods changes settings,
not code; the defaults follow the national credit-repair measures in force from 2026-04-01
(see DOMAIN.md) and 国办发〔2020〕49号 on notice and objection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from features.settings import Settings
from service.core.cases.enums import Severity


@dataclass(frozen=True)
class Period:
    min_months: int
    max_months: int


@dataclass(frozen=True)
class Publication:
    repair_from: date  # repair may be applied for from this day
    ends: date  # publication ends by itself on this day
    published: bool  # minor dishonesty is in principle not published


@dataclass(frozen=True)
class CasePolicy:
    objection_workdays: int
    answer_workdays: int
    repair_answer_workdays: int
    periods: dict[Severity, Period]
    publish_minor: bool
    open_tiers: frozenset[str]

    @classmethod
    def from_settings(cls, s: Settings) -> CasePolicy:
        """The case settings with their severities read as :class:`Severity` (which the
        settings, in ``features``, cannot name)."""
        c = s.cases
        periods = {}
        for severity in Severity:
            if severity.value not in c.publication_months:
                raise ValueError(f"TECHCREDIT_CASE_PUBLICATION_MONTHS: no period for "
                                 f"{severity.value!r}")
            low, high = c.publication_months[severity.value]
            if not 0 <= low <= high:
                raise ValueError(f"TECHCREDIT_CASE_PUBLICATION_MONTHS[{severity.value!r}]: "
                                 f"need 0 <= minimum <= maximum, got ({low}, {high})")
            periods[severity] = Period(min_months=low, max_months=high)
        return cls(objection_workdays=c.objection_workdays, answer_workdays=c.answer_workdays,
                   repair_answer_workdays=c.repair_answer_workdays, periods=periods,
                   publish_minor=c.publish_minor, open_tiers=frozenset(c.open_tiers))

    def publication(self, severity: Severity, decided_on: date) -> Publication:
        """Counted from the decision date, as the measures say."""
        p = self.periods[severity]
        return Publication(decided_on + relativedelta(months=p.min_months),
                           decided_on + relativedelta(months=p.max_months),
                           severity != Severity.minor or self.publish_minor)
