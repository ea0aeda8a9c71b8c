"""A small indicator system and hand-made frames for the assessment's unit tests."""

from __future__ import annotations

import pandas as pd

from features.standard.enums import REGION
from models.assessment.config import AssessmentConfig, parse_config

EAST = ("110000", "310000")


def toml(method: str = "", a: str = "", b: str = "", normalisation: str = "percentile") -> str:
    """Two indicators: ``a`` (higher is better, missing scores 0, weight 0.6) and ``b`` (lower
    is better, at most 10, missing left out, weight 0.4); two region tiers."""
    west = [r for r in REGION.codes if r not in EAST]
    return f"""
version = 2
name_zh = "测试"
name_en = "test"
[method]
normalisation = "{normalisation}"
min_group_size = 2
fail_below = 40.0
reasons = 2
{method}
[region_tiers.east]
name_zh = "东"
name_en = "east"
regions = {list(EAST)}
[region_tiers.west]
name_zh = "西"
name_en = "west"
regions = {west}
[[indicator]]
code = "a"
name_zh = "甲"
name_en = "alpha"
category = "activity"
weight = 0.6
direction = "higher"
unit_zh = "件"
unit_en = "contracts"
source = "contracts"
measure = "contracts_facilitated"
missing = "worst"
definition_zh = "甲"
definition_en = "alpha"
{a}
[[indicator]]
code = "b"
name_zh = "乙"
name_en = "beta"
category = "compliance"
weight = 0.4
direction = "lower"
unit_zh = "%"
unit_en = "%"
source = "reports"
measure = "complaints_per_100_clients"
missing = "skip"
limit = 10.0
definition_zh = "乙"
definition_en = "beta"
{b}
"""


def config(**parts: str) -> AssessmentConfig:
    return parse_config(toml(**parts).encode(), "test.toml")


def frame(rows: dict[str, tuple[str, str, float | None, float | None]],
          report_year: int | None = 2019) -> pd.DataFrame:
    """``id → (type, region, a, b)`` as ``compute_indicators`` returns it."""
    out = pd.DataFrame(
        [{"institution_id": i, "name": f"机构{i}", "institution_type": t, "region": r,
          "tier": "east" if r in EAST else "west", "report_year": report_year,
          "a": a, "b": b} for i, (t, r, a, b) in rows.items()]).set_index("institution_id")
    out["report_year"] = out["report_year"].astype("Int64")
    return out.astype({"a": "float64", "b": "float64"})
