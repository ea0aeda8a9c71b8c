"""Write a year's reports to a directory: the entry point for the ``report`` command.

File names carry the year and language (``year-2025.zh.pdf``, ``<id>-2025.en.html``) so that
several years and both languages live side by side in one directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from service.core.reports.contents import InstitutionReport, YearReport
from service.core.reports.messages import check_lang
from service.core.reports.pdf import html_to_pdf
from service.core.reports.render import institution_html, year_html


def write_reports(reports: list[InstitutionReport], year: YearReport, out_dir: Path,
                  langs: Sequence[str] = ("zh", "en"), pdf: bool = True) -> list[Path]:
    """Write the year report and every institution's report in each language, as HTML and,
    with ``pdf``, as PDF; returns the paths written, HTML before its PDF.

    Languages and years are checked before anything is written, so a bad call writes
    nothing; a missing Chromium or font raises ``pdf.MissingPackage`` before the first PDF.
    """
    langs = [check_lang(lang) for lang in langs]
    wrong = [r.institution_id for r in reports if r.year != year.year]
    if wrong:
        raise ValueError(f"reports of another year than {year.year}: {wrong}")
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = [(f"year-{year.year}", lambda lang: year_html(year, lang))]
    pages += [(f"{r.institution_id}-{r.year}", lambda lang, r=r: institution_html(r, lang))
              for r in reports]
    written = []
    for stem, render in pages:
        for lang in langs:
            html = render(lang)
            path = out_dir / f"{stem}.{lang}.html"
            path.write_text(html, encoding="utf-8")
            written.append(path)
            if pdf:
                written.append(html_to_pdf(html, path.with_suffix(".pdf")))
    return written
