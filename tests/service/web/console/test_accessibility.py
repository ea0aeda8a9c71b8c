"""Accessibility basics checked from the console's own files: text colours reach WCAG's
4.5:1 (computed from the stylesheet with WCAG's formula), pages declare a mobile viewport,
every input a person fills has a label, and charts carry a text alternative."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from service.web.console.alt_text import summary

CONSOLE = Path(__file__).parents[4] / "service" / "web" / "console"
CSS = (CONSOLE / "static" / "console.css").read_text(encoding="utf-8")
AA = 4.5


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of ``#rgb`` or ``#rrggbb``."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def variables() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})\b", CSS))


def colour_of(selector: str, prop: str = "color") -> str:
    """The colour a rule of the stylesheet gives ``selector`` (a variable resolved)."""
    rule = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert rule, selector
    value = re.search(rf"(?:^|[;\s]){prop}:\s*([^;]+);", rule.group(1))
    assert value, (selector, prop)
    text = value.group(1).strip()
    found = re.fullmatch(r"var\(--([a-z-]+)\)", text)
    return variables()[found.group(1)] if found else text


def test_the_formula_matches_wcags_reference_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#fff", "#fff") == 1.0


@pytest.mark.parametrize("tier", ["red", "orange", "yellow", "blue"])
def test_tier_badges_read_on_every_background_they_sit_on(tier: str) -> None:
    fg = colour_of(f".tier-{tier}")
    v = variables()
    for bg in ("#ffffff", v["page"], v["head"]):
        assert contrast(fg, bg) >= AA, (tier, fg, bg, round(contrast(fg, bg), 2))


def test_the_header_user_name_reads_on_the_bar() -> None:
    assert contrast(colour_of("header .user"), colour_of("header", "background")) >= AA
    assert 'class="user" id="user-name"' in (CONSOLE / "templates" / "base.html").read_text(
        encoding="utf-8")


def test_muted_text_reads_on_white_and_the_page() -> None:
    v = variables()
    for bg in ("#ffffff", v["page"], v["head"]):
        assert contrast(v["mute"], bg) >= AA


def test_the_base_template_declares_a_mobile_viewport() -> None:
    base = (CONSOLE / "templates" / "base.html").read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in base


class Inputs(HTMLParser):
    """Inputs a person fills that have neither an enclosing ``<label>``, a ``<label for>``
    nor an ``aria-label``."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.labelled_ids: set[str] = set()
        self.bare: list[tuple[str, str]] = []  # (tag, id or name)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label":
            self.depth += 1
            if a.get("for"):
                self.labelled_ids.add(a["for"] or "")
        elif tag in ("input", "select", "textarea"):
            if a.get("type") in ("hidden", "submit", "button"):
                return
            if self.depth == 0 and not a.get("aria-label"):
                self.bare.append((tag, a.get("id") or a.get("name") or "?"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.depth = max(0, self.depth - 1)


@pytest.mark.parametrize("template", sorted(p.name for p in (CONSOLE / "templates").glob(
    "*.html")))
def test_every_field_has_a_label(template: str) -> None:
    found = Inputs()
    found.feed((CONSOLE / "templates" / template).read_text(encoding="utf-8"))
    assert [b for b in found.bare if b[1] not in found.labelled_ids] == []


def test_a_charts_text_alternative_lists_its_figures() -> None:
    assert summary("zh", "等级分布", [("A", 3), ("B", 10)]) == "等级分布：A 3，B 10"
    assert summary("en", "By type, ", [("development", 12.345)], "{:.1f}") == (
        "By type: development 12.3")
