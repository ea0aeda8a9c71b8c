"""docs/assessment.md quotes the shipped indicator system as it is."""

from __future__ import annotations

from pathlib import Path

from models.assessment.config import load_config
from models.assessment.texts import indicator_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "assessment.md"


def test_the_documented_indicator_table_is_the_shipped_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    quoted = text.split("<!-- indicators:begin -->\n")[1].split("\n<!-- indicators:end -->")[0]
    assert quoted == indicator_table(load_config()), (
        "docs/assessment.md is out of step with indicators.toml: paste "
        "models.assessment.texts.indicator_table(load_config()) between the markers")
