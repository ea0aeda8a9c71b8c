"""Charts as inline SVG strings, for reports that must print the same everywhere.

Pure functions of their data, with no JavaScript, no CDN and no plotting library: the HTML
stays self-contained, Chromium prints it to PDF as vectors, and text in the charts (Chinese
labels included) is real text in the report's font, so it can be searched and extracted.
Every text is escaped; geometry is computed from the values so that tests can check it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT_SIZE = 12
ROW = 22  # height of one horizontal bar's row
INK = "#333"
GRID = "#ddd"
BAR = "#3b6ea8"


@dataclass(frozen=True)
class HBar:
    """One horizontal bar: a value on the chart's scale, an optional reference tick."""

    label: str
    value: float
    reference: float | None = None


@dataclass(frozen=True)
class Series:
    """One line of a line chart, on its own scale (``invert``: small values at the top)."""

    name: str
    values: Sequence[float | None]
    lo: float
    hi: float
    color: str
    invert: bool = False
    fmt: str = "{:.1f}"


@dataclass(frozen=True)
class Column:
    label: str
    value: float


@dataclass(frozen=True)
class Stack:
    """One horizontal stacked bar: its parts in the order of the chart's part names."""

    label: str
    parts: Sequence[float]


def text_width(s: str, size: float = FONT_SIZE) -> float:
    """Estimated width of a text: CJK glyphs are one em wide, others about 0.6 em."""
    return sum(size if ord(c) >= 0x2E80 else 0.6 * size for c in s)


def _fit(s: str, width: float) -> str:
    """Cut a label to a width, marking the cut, so long names never run into the plot."""
    if text_width(s) <= width:
        return s
    while s and text_width(s + "…") > width:
        s = s[:-1]
    return s + "…"


def _text(x: float, y: float, s: str, anchor: str = "start", cls: str = "",
          fill: str = INK) -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text{c} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
            f'font-size="{FONT_SIZE}">{escape(s)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, cls: str, title: str) -> str:
    return (f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="{fill}"><title>{escape(title)}</title></rect>')


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, cls: str = "",
          width: float = 1.0) -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<line{c} x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="{width}"/>')


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _legend(names: Sequence[str], colors: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for name, color in zip(names, colors, strict=True):
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        out.append(_text(x + 14, y, name))
        x += 14 + text_width(name) + 16
    return out


def hbar_chart(bars: Sequence[HBar], title: str, scale_max: float = 100.0,
               width: float = 680.0) -> str:
    """Horizontal bars on a common scale (0 to ``scale_max``), each with its optional
    reference tick; used for indicator scores against the group median's score."""
    label_w = min(max((text_width(b.label) for b in bars), default=0) + 8, width * 0.4)
    x0, plot_w = label_w, width - label_w - 30
    height = ROW * len(bars) + 30
    body = []
    for q in range(5):  # grid at 0, 25, 50, 75, 100 % of the scale
        x = x0 + plot_w * q / 4
        body.append(_line(x, 0, x, ROW * len(bars), GRID))
        body.append(_text(x, ROW * len(bars) + 16, f"{scale_max * q / 4:g}", "middle"))
    for i, b in enumerate(bars):
        y = i * ROW
        w = plot_w * max(0.0, min(b.value, scale_max)) / scale_max
        body.append(_text(x0 - 6, y + 15, _fit(b.label, label_w - 8), "end"))
        body.append(_rect(x0, y + 4, w, ROW - 8, BAR, "bar", f"{b.label}: {b.value:.1f}"))
        body.append(_text(x0 + w + 3, y + 15, f"{b.value:.0f}", cls="value"))
        if b.reference is not None:
            xr = x0 + plot_w * max(0.0, min(b.reference, scale_max)) / scale_max
            body.append(_line(xr, y + 1, xr, y + ROW - 1, INK, "reference", 2.0))
    return _svg(width, height, title, body)


def line_chart(labels: Sequence[str], series: Sequence[Series], title: str,
               width: float = 680.0, height: float = 220.0) -> str:
    """Lines over the same x labels (years), each series on its own scale so that a total
    score and a rank can share one chart; a ``None`` value leaves a gap, and every point
    carries its value as text (above it for the first series, below for the others, so two
    series meeting at a point stay legible), so no y axis is needed."""
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs one value per label")
    left, right, top, bottom = 30.0, 30.0, 34.0, 42.0
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def x_of(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    body = _legend([s.name for s in series], [s.color for s in series], left, 14)
    lines = []  # drawn first, under the points and their values
    for i, label in enumerate(labels):
        body.append(_line(x_of(i), top, x_of(i), top + plot_h, GRID))
        body.append(_text(x_of(i), height - 8, label, "middle"))
    for k, s in enumerate(series):
        span = (s.hi - s.lo) or 1.0
        path, pen_down = [], False
        for i, v in enumerate(s.values):
            if v is None:
                pen_down = False
                continue
            share = (v - s.lo) / span
            y = top + plot_h * (share if s.invert else 1 - share)
            path.append(f"{'L' if pen_down else 'M'}{x_of(i):.1f},{y:.1f}")
            pen_down = True
            body.append(f'<circle class="point" data-series="{k}" cx="{x_of(i):.1f}" '
                        f'cy="{y:.1f}" r="3.5" fill="{s.color}"/>')
            dy = -7 if k == 0 else 16
            body.append(_text(x_of(i), y + dy, s.fmt.format(v), "middle", "value", s.color))
        if path:
            lines.append(f'<path class="line" d="{" ".join(path)}" fill="none" '
                         f'stroke="{s.color}" stroke-width="2"/>')
    return _svg(width, height, title, lines + body)


def column_chart(columns: Sequence[Column], title: str, width: float = 680.0,
                 height: float = 200.0) -> str:
    """Vertical columns with heights proportional to their values (the histogram of
    totals); each column prints its value above it and its label below it."""
    top, bottom, side = 18.0, 24.0, 10.0
    plot_w, plot_h = width - 2 * side, height - top - bottom
    slot = plot_w / max(len(columns), 1)
    peak = max((c.value for c in columns), default=0) or 1.0
    body = [_line(side, top + plot_h, width - side, top + plot_h, INK)]
    for i, c in enumerate(columns):
        h = plot_h * c.value / peak
        x = side + i * slot
        tip = f"{c.label}: {c.value:g}"
        body.append(_rect(x + 2, top + plot_h - h, slot - 4, h, BAR, "bar", tip))
        body.append(_text(x + slot / 2, top + plot_h - h - 4, f"{c.value:g}", "middle", "value"))
        body.append(_text(x + slot / 2, height - 8, c.label, "middle"))
    return _svg(width, height, title, body)


def stacked_bar_chart(rows: Sequence[Stack], part_names: Sequence[str],
                      colors: Sequence[str], title: str, width: float = 680.0) -> str:
    """Horizontal stacked bars, lengths proportional to counts on one scale (the largest row
    fills the plot), so regions compare by size and by mix; empty parts draw nothing."""
    if len(part_names) != len(colors) or any(len(r.parts) != len(part_names) for r in rows):
        raise ValueError("every row needs one part per part name, and one color per part")
    label_w = min(max((text_width(r.label) for r in rows), default=0) + 8, width * 0.4)
    x0, plot_w, top = label_w, width - label_w - 40, 24.0
    peak = max((sum(r.parts) for r in rows), default=0) or 1.0
    body = _legend(part_names, colors, x0, 14)
    for i, r in enumerate(rows):
        y, x = top + i * ROW, x0
        body.append(_text(x0 - 6, y + 15, _fit(r.label, label_w - 8), "end"))
        for name, color, v in zip(part_names, colors, r.parts, strict=True):
            if v > 0:
                w = plot_w * v / peak
                body.append(_rect(x, y + 4, w, ROW - 8, color, "bar", f"{r.label} {name}: {v:g}"))
                x += w
        body.append(_text(x + 4, y + 15, f"{sum(r.parts):g}", cls="value"))
    return _svg(width, top + ROW * len(rows) + 6, title, body)
