"""A refused form reads as sentences naming the field in the reader's language, never as an
HTTP code with pydantic's words; and the forms carry the schema's own bounds, so the browser
refuses what the server would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from service.core.cases.schemas import CaseOpenIn, MeasureIn
from service.core.model_registry.schemas import AcknowledgeIn, PromoteIn
from service.core.scores.schemas import OverrideIn
from service.web.console.messages import WORDS
from service.web.console.refusals import LIMITS, invalid, missing

TEMPLATES = Path(__file__).parents[4] / "service" / "web" / "console" / "templates"


def _refusal(model: type[BaseModel], data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return refused.value


def test_a_short_reason_and_too_many_days_read_as_sentences() -> None:
    e = _refusal(OverrideIn, {"grade": "B", "reason": "短", "days": "731"})
    assert invalid("zh", e) == "未执行：理由至少需要5个字；有效天数不能大于730。"
    assert invalid("en", e) == ("Refused: the reason needs at least 5 characters; "
                                "the number of days must be at most 730.")


@pytest.mark.parametrize(("model", "data"), [
    (OverrideIn, {"grade": "Z", "reason": "", "days": "x"}),
    (OverrideIn, {"grade": "A", "reason": "x" * 2001, "days": "0"}),
    (CaseOpenIn, {"subject_kind": "broker", "subject_id": "B1", "reason": "\x00\x01"}),
    (MeasureIn, {"measure": "nothing", "agency": "", "starts": "soon"}),
    (PromoteIn, {"note": ""}),
    (AcknowledgeIn, {}),
])
def test_every_refusal_of_a_console_schema_has_its_own_words(model: type[BaseModel],
                                                             data: dict[str, Any]) -> None:
    e = _refusal(model, data)
    for lang in ("zh", "en"):
        text = invalid(lang, e)
        assert not re.search(r"\b4\d\d\b", text) and "should" not in text.lower(), text
        # each field by its label, each rule by its own sentence, not the fallback
        for x in e.errors():
            field = str(x["loc"][-1])
            assert f"field_{field}" in WORDS, field
            assert f"rule_{x['type']}" in WORDS, x["type"]


def test_fields_an_action_needs_are_named() -> None:
    assert missing("zh", ["basis", "decision_number"]) == "未执行：请填写法律依据；请填写决定文号。"
    assert missing("en", ["ends: before starts"]) == (
        "Refused: the end date cannot come before the start.")


def test_the_forms_carry_the_schemas_bounds() -> None:
    assert LIMITS["override_reason"] == 'required minlength="5" maxlength="2000"'
    assert LIMITS["override_days"] == 'required min="1" max="730"'
    assert LIMITS["open_reason"] == 'required minlength="2" maxlength="4000"'
    assert LIMITS["promote_note"] == 'required minlength="2" maxlength="5000"'
    used = set().union(*(set(re.findall(r"limits\.([a-z_]+)", p.read_text(encoding="utf-8")))
                         for p in TEMPLATES.glob("*.html")))
    assert used == set(LIMITS)
