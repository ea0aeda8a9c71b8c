"""docs/assessment.md quotes the shipped indicator system as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.assessment.config import load_config
from models.assessment.texts import indicator_table, with_indicator_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "assessment.md"


def test_the_documented_indicator_table_is_the_shipped_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    quoted = text.split("<!-- indicators:begin -->\n")[1].split("\n<!-- indicators:end -->")[0]
    assert quoted == indicator_table(load_config()), (
        "docs/assessment.md is out of step with indicators.toml: run `techcredit docs`")


def test_only_the_table_between_the_markers_is_generated() -> None:
    config = load_config()
    doc = "# Title\nwritten\n<!-- indicators:begin -->\nold\n<!-- indicators:end -->\ntail\n"
    out = with_indicator_table(doc, config)
    assert out.startswith("# Title\nwritten\n") and out.endswith("\ntail\n")
    assert indicator_table(config) in out and "\nold\n" not in out
    assert with_indicator_table(out, config) == out
    with pytest.raises(ValueError, match="markers"):
        with_indicator_table("no markers", config)
