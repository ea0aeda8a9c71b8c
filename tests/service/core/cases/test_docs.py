"""docs/cases.md is what the transition table and the default policy say."""

from __future__ import annotations

from pathlib import Path

from features.settings import Settings
from service.core.cases.docs import render_cases_doc
from service.core.cases.machine import TRANSITIONS
from service.core.cases.policy import CasePolicy

DOC = Path(__file__).resolve().parents[4] / "docs" / "cases.md"


def test_the_cases_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_cases_doc(
        CasePolicy.from_settings(Settings())), "run `techcredit docs`"


def test_every_transition_is_a_row() -> None:
    text = render_cases_doc(CasePolicy.from_settings(Settings()))
    assert all(f"| `{t.action.value}` {t.zh} |" in text for t in TRANSITIONS)
    assert "15 working days" in text and "12 months after the decision" in text
