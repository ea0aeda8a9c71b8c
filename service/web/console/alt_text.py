"""A chart's text alternative: the figures it draws, in words.

The console's charts are inline SVG with ``role="img"``; a screen reader reads their
``aria-label`` and nothing else, so the label carries what a sighted reader takes from the
bars and lines — each label with its value — not just a heading (or nothing, as the market's
charts had)."""

from __future__ import annotations

from collections.abc import Iterable

from service.web.console.messages import Lang


def summary(lang: Lang, heading: str, points: Iterable[tuple[str, float]],
            fmt: str = "{:g}") -> str:
    """"Heading: label value, label value, …" in the reader's punctuation."""
    colon, sep = ("：", "，") if lang == "zh" else (": ", ", ")
    return heading.rstrip("，, ") + colon + sep.join(
        f"{label} {fmt.format(value)}" for label, value in points)
