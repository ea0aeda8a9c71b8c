"""HTML reports: the facts in both languages, labels from the standard, charts inline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest

from service.core.reports.contents import InstitutionReport, YearReport
from service.core.reports.messages import LANGS, label, messages
from service.core.reports.render import institution_html, year_html
from service.core.reports.write import write_reports
from tests.service.core.reports.conftest import NAME

SVG = re.compile(r"<svg .*?</svg>", re.S)


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in SVG.findall(html)]


def visible(html: str) -> str:
    """The text a reader sees: tags dropped, entities decoded, whitespace folded."""
    body = re.sub(r"<style>.*?</style>|<title>.*?</title>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def test_institution_report_in_chinese(institution: InstitutionReport) -> None:
    html = institution_html(institution, "zh")
    text = visible(html)
    assert '<html lang="zh-CN">' in html
    for words in (NAME, "2025 年度考核报告", "INST-0001", "北京市", "公共服务平台/技术交易市场",
                  "公共服务平台 · 大型", "52.3", "第 18 名(共 20 家)", "警告", "结果经复核调整",
                  "技术合同成交额低于组内中位数", "技术合同成交额", "服务绩效", "1,234.5 万元",
                  "2,100.0", "40%", "低于组内中位数", "越低越好", "2026-03-31 10:00"):
        assert words in text, words
    assert "草稿" not in text


def test_institution_report_in_english(institution: InstitutionReport) -> None:
    text = visible(institution_html(institution, "en"))
    for words in (NAME, "2025 annual assessment report", "Beijing",
                  "public platform or technology exchange", "Rank in group", "18 of 20",
                  "warning", "Adjusted after review", "one contract audited and found false",
                  "contract turnover", "performance", "below the group median",
                  "lower is better"):
        assert words in text, words
    assert "警告" not in text and "技术合同成交额" not in text


@pytest.mark.parametrize("lang", LANGS)
def test_institution_charts_are_inline_svg(institution: InstitutionReport, lang: str) -> None:
    scores, trend = svgs(institution_html(institution, lang))
    bars = [e for e in scores.iter() if e.get("class") == "bar"]
    assert len(bars) == len(institution.indicators)
    ticks = [e for e in scores.iter() if e.get("class") == "reference"]
    assert len(ticks) == 3  # one indicator has no group median score
    points = [e for e in trend.iter() if e.tag.endswith("circle")]
    assert len(points) == 4 + 3  # four totals, three ranks (2023 has none)


def test_the_caption_explains_the_median_ticks_only_when_drawn(
    institution: InstitutionReport,
) -> None:
    assert "各指标得分(0–100),竖线为组内中位数的得分" in institution_html(institution, "zh")
    plain = replace(institution, indicators=[
        replace(i, group_median_score=None) for i in institution.indicators
    ])
    html = institution_html(plain, "en")
    assert "Indicator scores (0–100)" in html and "tick" not in html
    (scores, _) = svgs(html)
    assert not [e for e in scores.iter() if e.get("class") == "reference"]


def test_missing_values_print_as_dashes(institution: InstitutionReport) -> None:
    text = visible(institution_html(institution, "zh"))
    assert "— 份" not in text and "None" not in text and "nan" not in text
    assert "未报送" in text


def test_a_draft_says_so_and_no_trend_draws_no_chart(institution: InstitutionReport) -> None:
    draft = replace(institution, state="draft", published_at=None, adjusted=False, trend=[],
                    reasons_zh=[], reasons_en=[])
    html = institution_html(draft, "zh")
    assert "草稿:结果尚未发布" in visible(html)
    assert "历年趋势" not in html and "发布时间" not in html and "结果经复核调整" not in html
    assert len(svgs(html)) == 1
    assert "Draft: not yet published" in visible(institution_html(draft, "en"))


def test_year_report(year: YearReport) -> None:
    zh, en = visible(year_html(year, "zh")), visible(year_html(year, "en"))
    assert "2025 年度考核总览" in zh and "2025 annual assessment overview" in en
    assert "参评机构 8" in zh and "通过 4 警告 2 退出 2" in zh
    assert "Institutions assessed 8" in en and "pass 4 warning 2 exit 2" in en
    assert "北京市 2 1 0 3" in zh and "Shaanxi 0 0 1 1" in en  # outcomes by province
    assert "private service firm 1 0 1 2" in en  # by type
    # warned or exiting institutions, the exits first; those who passed are not listed
    flagged = zh[zh.index("警告与退出机构"):]
    assert flagged.index("上海某科技服务有限公司") < flagged.index(NAME)
    assert "清华大学技术转移研究院" not in flagged
    assert "第 18 名(共 20 家)" in flagged and "20 of 20" in en


def test_year_charts(year: YearReport) -> None:
    hist, regions, types = svgs(year_html(year, "en"))
    columns = [e for e in hist.iter() if e.get("class") == "bar"]
    assert len(columns) == 10
    assert sum(1 for e in regions.iter() if e.get("class") == "bar") == 7  # non-zero parts
    assert sum(1 for e in types.iter() if e.get("class") == "bar") == 8


def test_names_are_escaped(year: YearReport) -> None:
    html = year_html(year, "zh")
    assert "<科技>" not in html and "A&amp;B &lt;科技&gt;" in html
    assert "深圳A&B <科技> 服务公司" in visible(html)


def test_reports_are_self_contained(institution: InstitutionReport, year: YearReport) -> None:
    for html in (institution_html(institution, "en"), year_html(year, "zh")):
        assert "<script" not in html and "<link" not in html
        assert set(re.findall(r"https?://[^\"' )]+", html)) <= {"http://www.w3.org/2000/svg"}
        assert '"Noto Sans CJK SC", "Noto Sans SC", sans-serif' in html
        assert "@page { size: A4" in html


def test_unknown_language_is_refused(institution: InstitutionReport) -> None:
    with pytest.raises(ValueError, match="report language"):
        institution_html(institution, "fr")


def test_labels_come_from_the_standard_and_the_table() -> None:
    assert label("region", "610000", "zh") == "陕西省"
    assert label("type", "university", "en") == "university technology transfer office"
    assert label("outcome", "exit", "zh") == "退出"
    assert messages("zh").keys() == messages("en").keys()
    for category in ("capacity", "activity", "performance", "compliance", "credit"):
        assert label("category", category, "zh") and label("category", category, "en")


def test_write_reports_html_only(institution: InstitutionReport, year: YearReport,
                                 tmp_path: Path) -> None:
    paths = write_reports([institution], year, tmp_path, pdf=False)
    assert [p.name for p in paths] == [
        "year-2025.zh.html", "year-2025.en.html", "INST-0001-2025.zh.html",
        "INST-0001-2025.en.html",
    ]
    assert NAME in paths[2].read_text(encoding="utf-8")
    assert "Outcomes by province" in paths[1].read_text(encoding="utf-8")


def test_write_reports_refuses_before_writing(institution: InstitutionReport, year: YearReport,
                                              tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="another year"):
        write_reports([replace(institution, year=2024)], year, tmp_path / "a", pdf=False)
    with pytest.raises(ValueError, match="report language"):
        write_reports([institution], year, tmp_path / "b", langs=("zh", "de"), pdf=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
