"""Credit beside the assessment (考核与信用同屏): an institution's latest score, grade and
warning next to its indicators, and when passing it needs a written reason.

The assessment ranks an institution on what it reports and registers; the credit model and
the warning rules judge it on its conduct. The two can disagree: a busy institution may lead
its group while its grade is D and it carries a red warning. Neither judgement overrules the
other automatically (a score never punishes by itself), but a pass that ignores the worst
credit signals must not go out in silence: each such pass is flagged, and publishing needs a
written reason per flagged institution, kept with the result and in the audit. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CONCERN_GRADE = "D"  # the worst grade
CONCERN_TIER = "red"  # the most severe warning tier
MIN_REASON = 5  # characters of a written reason, Chinese or English

# why a pass is flagged, as data: (test on the standing, zh, en)
_CONCERNS = (
    ("grade_d", lambda c: c.grade == CONCERN_GRADE, "信用等级D", "credit grade D"),
    ("red_warning", lambda c: c.tier == CONCERN_TIER, "红色预警", "red warning"),
)


@dataclass(frozen=True)
class CreditStanding:
    """An institution's latest score when the draft was made, and the warning of that date."""

    as_of: str  # ISO date of the score
    points: float
    grade: str
    model: str  # "name vN"
    tier: str | None = None  # of the warning at that date; None: not warned
    reason_codes: tuple[str, ...] = ()
    reasons_zh: tuple[str, ...] = ()
    reasons_en: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: Mapping[str, object] | None) -> CreditStanding | None:
        """From the JSON kept with a result (None: the institution had no score)."""
        if not record:
            return None
        d = dict(record)
        for key in ("reason_codes", "reasons_zh", "reasons_en"):
            d[key] = tuple(d.get(key) or ())  # type: ignore[arg-type]
        return cls(**d)  # type: ignore[arg-type]

    def concerns(self) -> tuple[str, ...]:
        """The codes of what makes a pass of this institution need a reason."""
        return tuple(code for code, test, _, _ in _CONCERNS if test(self))


def needs_reason(outcome: str, credit: CreditStanding | None) -> bool:
    """A pass of an institution with grade D or a red warning."""
    return outcome == "pass" and credit is not None and bool(credit.concerns())


def concern_text(credit: CreditStanding, lang: str) -> str:
    """The concerns in one language, e.g. ``信用等级D、红色预警`` / ``credit grade D, red
    warning``."""
    names = [zh if lang == "zh" else en for code, _, zh, en in _CONCERNS
             if code in credit.concerns()]
    return ("、" if lang == "zh" else ", ").join(names)


def reason_ok(text: str | None) -> bool:
    return text is not None and len(text.strip()) >= MIN_REASON
