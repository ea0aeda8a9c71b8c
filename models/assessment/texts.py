"""How values, groups and indicator notes read in Chinese and English (reasons and reports).

Kept apart so that the reasons an assessor reads and the reports an institution receives word
the same number the same way.
"""

from __future__ import annotations

import math

from features.standard.enums import INSTITUTION_TYPE
from models.assessment.config import AssessmentConfig, Indicator

ALL = "all"  # the group of the whole assessed market


def value_text(value: float | None, ind: Indicator, lang: str) -> str:
    """``72.5%``, ``204件`` / ``204 contracts``; ``—`` when the value is unknown."""
    if value is None or math.isnan(value):
        return "—"
    unit = ind.unit_zh if lang == "zh" else ind.unit_en
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "%" or lang == "zh":
        return f"{number}{unit}"
    return f"{number} {unit}"


def group_name(config: AssessmentConfig, key: str, lang: str) -> str:
    """``enterprise/eastern`` → 企业型技术转移机构·东部 / enterprise-type … (eastern)."""
    if key == ALL:
        return "全部机构" if lang == "zh" else "all institutions"
    kind, _, tier = key.partition("/")
    label = INSTITUTION_TYPE.label(kind, lang) if kind in INSTITUTION_TYPE.codes else kind
    if not tier:
        return label
    t = config.tier(tier)
    return f"{label}·{t.name_zh}" if lang == "zh" else f"{label} ({t.name_en})"


def indicator_table(config: AssessmentConfig) -> str:
    """The indicator system as a Markdown table (docs/assessment.md quotes it verbatim)."""
    lines = ["| code | 指标 | indicator | category | weight | better | unit | limit | missing |"
             " source |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for i in config.indicators:
        limit = "" if i.limit is None else value_text(i.limit, i, "en")
        lines.append(f"| `{i.code}` | {i.name_zh} | {i.name_en} | {i.category} | {i.weight:g} | "
                     f"{i.direction} | {i.unit_en} | {limit} | {i.missing} | {i.source} |")
    lines.append("")
    lines += [f"- `{i.code}`: {i.definition_en} {i.definition_zh}" for i in config.indicators]
    return "\n".join(lines)


BEGIN, END = "<!-- indicators:begin -->\n", "\n<!-- indicators:end -->"


def with_indicator_table(document: str, config: AssessmentConfig) -> str:
    """``document`` with the text between its indicator markers replaced by the table, so the
    written parts of docs/assessment.md stay the author's and the table stays the code's."""
    head, found, rest = document.partition(BEGIN)
    if not found or END not in rest:
        raise ValueError(f"the document has no {BEGIN.strip()} … {END.strip()} markers")
    return head + BEGIN + indicator_table(config) + END + rest.split(END, 1)[1]
