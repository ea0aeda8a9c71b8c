"""When a pass needs a written reason: grade D or a red warning, and only a pass."""

from __future__ import annotations

import pytest

from models.assessment.credit import (
    CreditStanding,
    concern_text,
    needs_reason,
    reason_ok,
)


def _credit(grade: str, tier: str | None = None) -> CreditStanding:
    return CreditStanding("2020-12-31", 530.0, grade, "techcredit-credit v1", tier)


@pytest.mark.parametrize(("outcome", "credit", "needed"), [
    ("pass", _credit("D"), True),
    ("pass", _credit("A", "red"), True),
    ("pass", _credit("C", "orange"), False),
    ("pass", None, False),  # never scored
    ("warning", _credit("D", "red"), False),
    ("exit", _credit("D", "red"), False),
])
def test_only_a_pass_with_grade_d_or_a_red_warning_needs_a_reason(
        outcome: str, credit: CreditStanding | None, needed: bool) -> None:
    assert needs_reason(outcome, credit) is needed


def test_the_concerns_in_both_languages() -> None:
    both = _credit("D", "red")
    assert both.concerns() == ("grade_d", "red_warning")
    assert concern_text(both, "zh") == "信用等级D、红色预警"
    assert concern_text(both, "en") == "credit grade D, red warning"
    assert concern_text(_credit("B", "red"), "en") == "red warning"


def test_a_reason_has_five_characters_in_either_language() -> None:
    assert reason_ok("已核实无误") and reason_ok("fine.") and reason_ok("  checked  ")
    assert not reason_ok("核实无误") and not reason_ok("ok   ") and not reason_ok(None)


def test_the_kept_record_reads_back() -> None:
    kept = {"as_of": "2020-12-31", "points": 530.0, "grade": "D", "model": "m v1",
            "tier": "red", "reason_codes": ["a"], "reasons_zh": ["甲"], "reasons_en": ["a"]}
    assert CreditStanding.from_record(kept) == CreditStanding(
        "2020-12-31", 530.0, "D", "m v1", "red", ("a",), ("甲",), ("a",))
    assert CreditStanding.from_record(None) is None
