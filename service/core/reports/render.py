"""Reports as self-contained HTML: inline CSS, inline SVG, no network, A4 print CSS.

One HTML file per report and language is both what a browser shows and what Chromium prints
to PDF (``pdf``), so the two never differ. Labels come from ``messages`` and the data
standard; numbers are formatted here, once.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from service.core.reports import charts
from service.core.reports.contents import OUTCOMES, InstitutionReport, YearReport
from service.core.reports.messages import label, messages
from service.core.reports.stats import OutcomeRow, histogram, outcome_totals, outcomes_by

OUTCOME_COLORS = {"pass": "#2e7d32", "warning": "#b26a00", "exit": "#c62828"}
TOTAL_COLOR, RANK_COLOR = "#3b6ea8", "#8e44ad"
_ORDER = {o: i for i, o in enumerate(("exit", "warning", "pass"))}  # the worst listed first


def num(value: float | None, digits: int = 1) -> str:
    """A figure with thousands separators; a missing one is a dash, never "None" or "nan"."""
    return "—" if value is None else f"{value:,.{digits}f}"


def pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=StrictUndefined,  # a misspelt message key fails the render, not the reader
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(num=num, pct=pct, when=when)


def _context(m: dict[str, str], lang: str, state: str) -> dict[str, object]:
    """What every template reads: the language, its words, and a label function bound to it."""
    return {"lang": lang, "m": m, "state": state,
            "label": lambda kind, code: label(kind, code, lang)}


def institution_html(report: InstitutionReport, lang: str) -> str:
    """One institution's report: facts, outcome and reasons, indicators with their score
    chart, and the trend of total and rank over the years."""
    m = messages(lang)
    bars = [charts.HBar(getattr(i, f"name_{lang}"), i.score, i.group_median_score)
            for i in report.indicators]
    caption = m["chart_scores"]
    if any(b.reference is not None for b in bars):  # explain the ticks only where drawn
        caption += m["chart_median_tick"]
    scores_svg = charts.hbar_chart(bars, caption)
    trend = report.trend
    sizes = [p.group_size or p.rank for p in trend if p.rank is not None]
    trend_svg = "" if not trend else charts.line_chart(
        [str(p.year) for p in trend],
        [
            charts.Series(m["total"], [p.total for p in trend], 0.0, 100.0, TOTAL_COLOR),
            charts.Series(m["rank"], [p.rank for p in trend], 1.0, float(max(sizes, default=1)),
                          RANK_COLOR, invert=True, fmt="{:.0f}"),
        ],
        m["trend"],
    )
    return _ENV.get_template("institution.html").render(
        _context(m, lang, report.state), r=report, scores_caption=caption,
        scores_svg=Markup(scores_svg), trend_svg=Markup(trend_svg),
    )


def year_html(report: YearReport, lang: str) -> str:
    """The year's overview: outcome counts, the distribution of totals, outcomes by province
    and by type (chart and table), and the institutions warned or exiting."""
    m = messages(lang)
    assessed = report.institutions
    bins = histogram([i.total for i in assessed])
    histogram_svg = charts.column_chart(
        [charts.Column(f"{b.lo:g}–{b.hi:g}", b.count) for b in bins], m["distribution"]
    )
    by_region = outcomes_by(assessed, "region")
    by_type = outcomes_by(assessed, "institution_type")
    names = [label("outcome", o, lang) for o in OUTCOMES]
    colors = [OUTCOME_COLORS[o] for o in OUTCOMES]

    def stacked(rows: list[OutcomeRow], kind: str, title: str) -> Markup:
        stacks = [charts.Stack(label(kind, r.code, lang), [r.counts[o] for o in OUTCOMES])
                  for r in rows]
        return Markup(charts.stacked_bar_chart(stacks, names, colors, title))

    flagged = sorted((i for i in assessed if i.outcome != "pass"),
                     key=lambda i: (_ORDER[i.outcome], i.region, i.total))
    return _ENV.get_template("year.html").render(
        _context(m, lang, report.state), y=report, outcomes=OUTCOMES,
        totals=outcome_totals(assessed), histogram_svg=Markup(histogram_svg),
        by_region=by_region, region_svg=stacked(by_region, "region", m["by_region"]),
        by_type=by_type, type_svg=stacked(by_type, "type", m["by_type"]),
        flagged=flagged,
    )
