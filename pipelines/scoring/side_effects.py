"""What a batch run writes beside its scores (批量评分的附带操作): warnings and cases, or not.

A score is a fact about a date and a model version; a warning and a case are calls on a person
to act now. Scoring a past date (a backfill: an as-of before the latest scored as-of, or any run
asked to be one) fills in history, and a warning raised today about last year, or a case opened
on it, would send people after what has long been decided or superseded. So a backfill writes
scores only unless warnings and cases are asked for, and a run at the newest date writes them
unless they are turned off. Contract checks go with the warnings: each carries a contract's
warning tier. Cases are opened from the run's own warnings, so they cannot be asked for without
them. Pure: the latest scored as-of is read by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


class SideEffectsRefused(ValueError):
    """A combination of switches that cannot run; the message is one line in zh and en."""


@dataclass(frozen=True)
class SideEffects:
    backfill: bool  # the as-of is in the past of the scores already written, or asked to be
    warnings: bool  # risk warnings and contract checks are written
    cases: bool  # warnings in the case-opening tiers flag dishonesty cases

    def describe(self) -> str:
        """One line for the run's summary."""
        kind = "回溯评分 backfill" if self.backfill else "当期评分 current run"
        if self.cases:
            return f"{kind}: 评分、预警、合同核查与案件 scores, warnings, contract checks, cases"
        if self.warnings:
            return (f"{kind}: 评分、预警与合同核查，不开案件 scores, warnings and contract "
                    "checks; no cases (ask with --cases)")
        return (f"{kind}: 仅写入评分 scores only; no warnings, contract checks or cases "
                "(ask with --warnings --cases)")


def check_switches(warnings: bool | None, cases: bool | None) -> None:
    """Refuse cases without warnings before any data is read."""
    if cases and warnings is False:
        raise SideEffectsRefused("cases are opened from the run's warnings: --cases needs "
                                 "--warnings / 案件由本次预警产生，--cases 须同时 --warnings")


def side_effects(as_of: date, latest: date | None, *, backfill: bool = False,
                 warnings: bool | None = None, cases: bool | None = None) -> SideEffects:
    """The run's side effects: ``warnings`` and ``cases`` as asked (None: the default), by
    default on for a run at or after ``latest`` (the latest as-of already scored; None: none
    yet) and off for a backfill."""
    past = backfill or (latest is not None and as_of < latest)
    warn = (not past) if warnings is None else warnings
    check_switches(warn, cases)  # a backfill's warnings are off unless asked for
    return SideEffects(past, warn, (warn and not past) if cases is None else cases)
