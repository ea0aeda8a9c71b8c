"""Sample view models, as the annual assessment would fill them, with Chinese names."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.core.reports.contents import (
    IndicatorLine,
    InstitutionReport,
    InstitutionSummary,
    TrendPoint,
    YearReport,
)

NAME = "北京技术转移中心"


def _indicators() -> list[IndicatorLine]:
    return [
        IndicatorLine("deal_amount", "技术合同成交额", "contract turnover", "performance", 1234.5,
                      "万元", 0.4, "higher", 35.0, 2100.0, "低于组内中位数",
                      "below the group median", group_median_score=50.0),
        IndicatorLine("brokers", "持证技术经纪人数", "licensed brokers", "capacity", 12.0, "人",
                      0.2, "higher", 80.0, 8.0, "高于组内中位数", "above the group median",
                      group_median_score=50.0),
        IndicatorLine("contracts", "登记合同数", "registered contracts", "activity", None, "份",
                      0.2, "higher", 0.0, 40.0, "未报送", "not reported"),
        IndicatorLine("false_rate", "虚假合同比例", "share of false contracts", "compliance",
                      0.08, "", 0.2, "lower", 20.0, 0.01, "一项合同被核查认定虚假",
                      "one contract audited and found false", group_median_score=55.0),
    ]


def sample_institution() -> InstitutionReport:
    """A warned public platform in Beijing, with a gap in its trend and a missing value."""
    return InstitutionReport(
        year=2025, institution_id="INST-0001", name=NAME, institution_type="public_platform",
        region="110000", group="公共服务平台 · 大型", group_size=20, rank=18, total=52.3,
        outcome="warning",
        reasons_zh=["技术合同成交额低于组内中位数", "一项合同被核查认定虚假"],
        reasons_en=["contract turnover below the group median",
                    "one contract audited and found false"],
        indicators=_indicators(),
        trend=[
            TrendPoint(2022, 71.0, 6, 18, "pass"),
            TrendPoint(2023, 64.5, None, None, None),
            TrendPoint(2024, 58.0, 15, 20, "pass"),
            TrendPoint(2025, 52.3, 18, 20, "warning"),
        ],
        state="published", adjusted=True, published_at=datetime(2026, 3, 31, 10, 0),
    )


def _summary(i: int, name: str, kind: str, region: str, total: float, outcome: str,
             rank: int) -> InstitutionSummary:
    return InstitutionSummary(f"INST-{i:04d}", name, kind, region, f"{kind}-group", rank, 20,
                              total, outcome)  # type: ignore[arg-type]


def sample_year() -> YearReport:
    """Eight institutions in four provinces and all five types; one name needs escaping."""
    rows = [
        _summary(1, NAME, "public_platform", "110000", 52.3, "warning", 18),
        _summary(2, "清华大学技术转移研究院", "university", "110000", 88.0, "pass", 1),
        _summary(3, "中关村技术经理人事务所", "private", "110000", 61.0, "pass", 9),
        _summary(4, "上海技术交易所", "public_platform", "310000", 100.0, "pass", 1),
        _summary(5, "上海某科技服务有限公司", "private", "310000", 12.5, "exit", 20),
        _summary(6, "广东省科学院技术转移中心", "research_institute", "440000", 74.9, "pass", 4),
        _summary(7, "深圳A&B <科技> 服务公司", "enterprise", "440000", 45.0, "warning", 16),
        _summary(8, "西安交通大学技术转移中心", "university", "610000", 0.0, "exit", 20),
    ]
    return YearReport(2025, "published", datetime(2026, 3, 31, 10, 0), rows)


@pytest.fixture
def institution() -> InstitutionReport:
    return sample_institution()


@pytest.fixture
def year() -> YearReport:
    return sample_year()
