"""Every word a report prints, in Chinese and English, in one table.

Codes (region, institution type) take their labels from the data standard
(``features.standard.enums``), so that a report and the data dictionary never disagree; this
table holds only the report's own words.
"""

from __future__ import annotations

from typing import Literal

from features.standard.enums import INSTITUTION_TYPE, REGION

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

_TABLE: dict[str, tuple[str, str]] = {
    "annual_assessment": ("年度考核报告", "annual assessment report"),
    "year_overview": ("年度考核总览", "annual assessment overview"),
    "institution": ("机构", "Institution"),
    "institution_id": ("机构编号", "Institution ID"),
    "type": ("机构类型", "Type"),
    "region": ("所在省份", "Province"),
    "group": ("可比组", "Comparable group"),
    "rank": ("组内排名", "Rank in group"),
    "rank_of": ("第 {rank} 名(共 {size} 家)", "{rank} of {size}"),
    "total": ("综合得分", "Total score"),
    "outcome": ("考核结果", "Outcome"),
    "reasons": ("主要原因", "Reasons"),
    "indicators": ("指标明细", "Indicators"),
    "indicator": ("指标", "Indicator"),
    "category": ("类别", "Category"),
    "value": ("指标值", "Value"),
    "group_median": ("组内中位数", "Group median"),
    "weight": ("权重", "Weight"),
    "score": ("得分", "Score"),
    "note": ("说明", "Note"),
    "higher": ("越高越好", "higher is better"),
    "lower": ("越低越好", "lower is better"),
    "chart_scores": ("各指标得分(0–100)", "Indicator scores (0–100)"),
    "chart_median_tick": (",竖线为组内中位数的得分", "; tick: the group median's score"),
    "trend": ("历年趋势", "Trend"),
    "year": ("年度", "Year"),
    "draft": ("草稿:结果尚未发布", "Draft: not yet published"),
    "published_at": ("发布时间", "Published"),
    "adjusted": ("结果经复核调整", "Adjusted after review"),
    "assessed": ("参评机构", "Institutions assessed"),
    "distribution": ("综合得分分布", "Distribution of total scores"),
    "count": ("机构数", "Institutions"),
    "by_region": ("各省份考核结果", "Outcomes by province"),
    "by_type": ("各类型机构考核结果", "Outcomes by institution type"),
    "flagged": ("警告与退出机构", "Institutions warned or exiting"),
    "none": ("无", "None"),
    "sum": ("合计", "Total"),
    "outcome.pass": ("通过", "pass"),
    "outcome.warning": ("警告", "warning"),
    "outcome.exit": ("退出", "exit"),
    "category.capacity": ("服务能力", "capacity"),
    "category.activity": ("业务活跃度", "activity"),
    "category.performance": ("服务绩效", "performance"),
    "category.compliance": ("合规经营", "compliance"),
    "category.credit": ("信用记录", "credit"),
}


def check_lang(lang: str) -> Lang:
    """Reject an unknown language early: a typo must not render a report with missing words."""
    if lang not in LANGS:
        raise ValueError(f"report language must be one of {LANGS}, not {lang!r}")
    return lang  # type: ignore[return-value]


def messages(lang: str) -> dict[str, str]:
    """The table's words in one language, as the templates read them (``m.rank``)."""
    i = LANGS.index(check_lang(lang))
    return {key: pair[i] for key, pair in _TABLE.items()}


def label(kind: str, code: str, lang: str) -> str:
    """The label of a code: a region or institution type from the standard, else the table."""
    if kind == "region":
        return REGION.label(code, lang)
    if kind == "type":
        return INSTITUTION_TYPE.label(code, lang)
    return messages(lang)[f"{kind}.{code}"]
