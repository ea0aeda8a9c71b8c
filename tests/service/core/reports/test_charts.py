"""Charts are valid SVG whose geometry follows the values, with their text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from service.core.reports.charts import (
    Column,
    HBar,
    Series,
    Stack,
    column_chart,
    hbar_chart,
    line_chart,
    stacked_bar_chart,
    text_width,
)

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iterfind(f".//s:{tag}", NS) if e.get("class") == cls]


def num(e: ET.Element, attr: str) -> float:
    return float(e.get(attr, "nan"))


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iterfind(".//s:text", NS)]


def test_hbar_lengths_are_proportional_and_ticks_sit_at_the_reference() -> None:
    root = parse(hbar_chart([HBar("技术合同成交额", 80.0, 50.0), HBar("登记合同数", 20.0),
                             HBar("over", 130.0)], "得分"))
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 3
    w80, w20, w_over = (num(b, "width") for b in bars)
    assert w80 == pytest.approx(4 * w20, abs=0.1)
    assert w_over == pytest.approx(w80 / 0.8, abs=0.1)  # clamped to the scale's end
    assert len({num(b, "x") for b in bars}) == 1  # one common origin
    (tick,) = by_class(root, "line", "reference")  # only the bar with a reference has one
    x0 = num(bars[0], "x")
    assert num(tick, "x1") - x0 == pytest.approx((w80 / 0.8) * 0.5, abs=0.1)
    assert "技术合同成交额" in texts(root) and "80" in texts(root)


def test_line_chart_points_gaps_and_an_inverted_rank_scale() -> None:
    svg = line_chart(["2022", "2023", "2024"], [
        Series("总分", [70.0, None, 50.0], 0.0, 100.0, "#000"),
        Series("排名", [1, 10, 19], 1.0, 19.0, "#111", invert=True, fmt="{:.0f}"),
    ], "趋势")
    root = parse(svg)
    points = root.findall(".//s:circle", NS)
    total = [p for p in points if p.get("data-series") == "0"]
    rank = [p for p in points if p.get("data-series") == "1"]
    assert len(total) == 2 and len(rank) == 3  # the missing year draws no point
    top, bottom = num(rank[0], "cy"), num(rank[2], "cy")
    assert top < num(rank[1], "cy") < bottom  # rank 1 is drawn highest
    assert num(rank[1], "cy") == pytest.approx((top + bottom) / 2, abs=0.1)
    assert num(total[0], "cy") == pytest.approx(bottom + 0.7 * (top - bottom), abs=0.1)
    d = [p.get("d", "") for p in by_class(root, "path", "line")]
    assert d[0].count("M") == 2 and d[0].count("L") == 0  # the gap splits the total's line
    assert {"2022", "2023", "2024", "70.0", "50.0", "1", "19"} <= set(texts(root))


def test_line_chart_with_one_year_and_a_flat_scale() -> None:
    root = parse(line_chart(["2025"], [Series("排名", [1], 1.0, 1.0, "#000", invert=True)], "t"))
    (point,) = root.findall(".//s:circle", NS)
    assert num(point, "cx") == pytest.approx(680 / 2)


def test_line_chart_needs_a_value_per_label() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        line_chart(["2024", "2025"], [Series("x", [1.0], 0, 1, "#000")], "t")


def test_column_heights_follow_counts() -> None:
    root = parse(column_chart([Column("0–10", 2), Column("10–20", 0), Column("20–30", 4)], "h"))
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 3
    heights = [num(b, "height") for b in bars]
    assert heights[1] == 0 and heights[2] == pytest.approx(2 * heights[0], abs=0.1)
    bottoms = {round(num(b, "y") + num(b, "height"), 1) for b in bars}
    assert len(bottoms) == 1  # every column stands on the same baseline
    assert "10–20" in texts(root)


def test_stacked_bars_skip_empty_parts_and_share_one_scale() -> None:
    root = parse(stacked_bar_chart(
        [Stack("北京市", [2, 1, 0]), Stack("陕西省", [0, 0, 1])],
        ["通过", "警告", "退出"], ["#0a0", "#fa0", "#c00"], "各省份",
    ))
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 3  # 2 + 1 parts drawn, zeros are not
    beijing_pass, beijing_warn, shaanxi_exit = bars
    assert num(beijing_warn, "x") == pytest.approx(
        num(beijing_pass, "x") + num(beijing_pass, "width"), abs=0.1
    )
    assert num(beijing_pass, "width") == pytest.approx(2 * num(beijing_warn, "width"), abs=0.1)
    assert num(shaanxi_exit, "width") == pytest.approx(num(beijing_warn, "width"), abs=0.1)
    assert shaanxi_exit.get("fill") == "#c00"
    assert {"北京市", "陕西省", "3", "1", "退出"} <= set(texts(root))


def test_stacked_bars_need_matching_parts() -> None:
    with pytest.raises(ValueError, match="one part per part name"):
        stacked_bar_chart([Stack("x", [1])], ["a", "b"], ["#000", "#111"], "t")


def test_text_is_escaped_and_survives_the_round_trip() -> None:
    name = 'A&B <科技> "quoted" \'x\''
    for svg in (
        hbar_chart([HBar(name, 10.0)], name),
        column_chart([Column(name, 1)], name),
        stacked_bar_chart([Stack(name, [1])], [name], ["#000"], name),
        line_chart([name], [Series(name, [1.0], 0, 2, "#000")], name),
    ):
        assert "<科技>" not in svg
        root = parse(svg)
        assert root.findtext("s:title", namespaces=NS) == name
        assert root.get("aria-label") == name
        assert any(t.startswith("A&B <科技>") for t in texts(root))


def test_long_labels_are_cut_to_fit() -> None:
    long = "科" * 60
    root = parse(hbar_chart([HBar(long, 50.0)], "t", width=400))
    label = next(t for t in texts(root) if t.startswith("科"))
    assert label.endswith("…") and text_width(label) <= 400 * 0.4
