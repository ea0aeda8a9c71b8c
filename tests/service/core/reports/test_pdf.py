"""PDFs printed by the real Chromium carry real CJK text in the Noto Sans CJK font.

Two prints for the module (one per language): the English year report through
``write_reports`` and the Chinese institution report through ``html_to_pdf``. The text is
extracted back with poppler and must be the same characters; the font must be Noto Sans CJK,
embedded; page 1 rendered to PNG must be an A4 page with ink on it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from features.settings import get_settings
from service.core.reports.pdf import MissingPackage, check_cjk_font, find_chromium, html_to_pdf
from service.core.reports.render import institution_html
from service.core.reports.write import write_reports
from tests.service.core.reports.conftest import NAME, sample_institution, sample_year


@dataclass(frozen=True)
class Printed:
    written: list[Path]  # by write_reports: the English year report, HTML then PDF
    zh: Path  # the Chinese institution report
    en: Path  # the English year report


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    try:
        find_chromium(get_settings().reports.chromium)
        check_cjk_font()
    except MissingPackage as e:
        pytest.skip(str(e))
    for tool in ("pdftotext", "pdffonts", "pdftoppm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: install Debian's poppler-utils (make system)")
    out = tmp_path_factory.mktemp("reports")
    written = write_reports([], sample_year(), out, langs=("en",))
    zh = html_to_pdf(institution_html(sample_institution(), "zh"), out / "INST-0001-2025.zh.pdf")
    return Printed(written, zh, written[1])


def poppler(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def pdf_text(pdf: Path) -> str:
    """The extracted text with all whitespace removed: layout spacing is not what we test."""
    return re.sub(r"\s+", "", poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-"))


def test_write_reports_wrote_html_and_pdf(printed: Printed) -> None:
    assert [p.name for p in printed.written] == ["year-2025.en.html", "year-2025.en.pdf"]
    assert printed.en.read_bytes().startswith(b"%PDF-")


def test_chinese_text_comes_back_as_the_same_characters(printed: Printed) -> None:
    text = pdf_text(printed.zh)
    for words in (NAME, "2025年度考核报告", "考核结果", "警告", "第18名(共20家)", "北京市",
                  "技术合同成交额", "一项合同被核查认定虚假", "历年趋势"):
        assert words in text, words


def test_english_report_keeps_the_chinese_names(printed: Printed) -> None:
    text = pdf_text(printed.en)
    for words in ("2025annualassessmentoverview", "Institutionswarnedorexiting", "warning",
                  "exit", NAME, "上海某科技服务有限公司", "深圳A&B<科技>服务公司", "Shaanxi"):
        assert words in text, words


@pytest.mark.parametrize("which", ["zh", "en"])
def test_the_font_is_noto_sans_cjk_and_embedded(printed: Printed, which: str) -> None:
    pdf = getattr(printed, which)
    # Chromium (Skia) embeds the CFF-based Noto CJK glyphs as Type 3 fonts, which pdffonts
    # lists without a name; the font descriptors name the font they were drawn from.
    rows = [line for line in poppler("pdffonts", str(pdf)).splitlines()[2:] if line.strip()]
    assert rows
    flags = [re.search(r"\b(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", r) for r in rows]
    assert all(f is not None and f[1] == "yes" and f[3] == "yes" for f in flags), rows  # emb, uni
    names = set(re.findall(rb"/FontName\s*/(?:[A-Z]{6}\+)?([\w-]+)", pdf.read_bytes()))
    assert names and all(n.startswith(b"NotoSansCJK") for n in names), names


@pytest.mark.parametrize("which", ["zh", "en"])
def test_page_one_renders_as_an_a4_page_with_ink(printed: Printed, which: str,
                                                   tmp_path: Path) -> None:
    pdf = getattr(printed, which)
    prefix = tmp_path / "page"
    poppler("pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
            str(prefix))
    with Image.open(prefix.with_suffix(".png")) as png:
        assert png.size == (496, 702)  # A4 at 60 dpi, from the print CSS
        gray = png.convert("L")
        dark = sum(gray.histogram()[:128])
    assert dark / (496 * 702) > 0.01  # text, tables and charts, not a blank page


def test_page_count(printed: Printed) -> None:
    pages = {p: int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(p)))[1])
             for p in (printed.zh, printed.en)}
    assert all(1 <= n <= 3 for n in pages.values()), pages
