"""Calibration rows (figure, published, generated, ok) by hand and on a tiny market; the table."""

from __future__ import annotations

import pandas as pd
import pytest

from features.synthetic.market import generate_market
from features.synthetic.market_check import Row, calibration_table, format_table, shape_figures
from features.synthetic.spec import MarketSpec

SCALE = 4 / 549_400  # 2020's published 549,400 contracts scaled down to exactly 4


def _tables() -> dict[str, pd.DataFrame]:
    contracts = pd.DataFrame({
        "registered_date": pd.to_datetime(["2020-12-01", "2020-03-05", "2020-03-09",
                                           "2020-06-30"]),
        "amount_yuan": [6e6, 2e6, 1e6, 1e6],
        "seller_kind": ["enterprise", "enterprise", "university", "research_institute"],
        "seller_region": ["110000", "310000", "110000", "440000"],
        "tech_field": ["electronic_information"] * 3 + ["new_materials"],
    })
    institutions = pd.DataFrame({
        "designated_date": pd.to_datetime(["2018-01-01", "2019-01-01", "2021-01-01", None]),
        "status": ["active", "exited", "active", "active"],
        "status_date": pd.to_datetime([None, "2020-06-01", None, None]),
    })
    brokers = pd.DataFrame({"certified_date": pd.to_datetime(["2019-05-01", "2020-12-31",
                                                              "2021-01-01"])})
    return {"contracts": contracts, "institutions": institutions, "brokers": brokers}


def test_rows_by_hand_for_one_year() -> None:
    rows = {r.figure: r for r in calibration_table(_tables(), SCALE)}
    assert list(rows) == [
        "2020 contracts", "2020 amount (亿元)", "2020 average (万元)",
        "2020 enterprise share of amount sold (%)", "2020 university+institute contracts",
        "2020 university+institute amount (亿元)", "2020 national institutions",
        "2020 trained brokers",
    ]
    got = {f: (r.published, r.generated) for f, r in rows.items()}
    assert got["2020 contracts"] == pytest.approx((4.0, 4.0))
    assert got["2020 amount (亿元)"] == pytest.approx((28_300 * 4 / 549_400, 0.1))
    assert got["2020 average (万元)"] == pytest.approx((28_300e4 / 549_400, 250.0))
    assert got["2020 enterprise share of amount sold (%)"] == pytest.approx((91.4, 80.0))
    assert got["2020 university+institute contracts"] == pytest.approx((143_900 * SCALE, 2.0))
    assert got["2020 university+institute amount (亿元)"] == pytest.approx((1_672.8 * SCALE, 0.02))
    # I1 counts; I2 exited mid-2020, I3 is designated in 2021, I4 never
    assert got["2020 national institutions"] == pytest.approx((420 * SCALE, 1.0))
    assert got["2020 trained brokers"] == pytest.approx((10_000 * SCALE, 2.0))
    assert {f for f, r in rows.items() if r.ok} == {"2020 contracts", "2020 trained brokers"}
    assert rows["2020 contracts"].source == "published"
    assert rows["2020 trained brokers"].tolerance == ">=1.0"


def test_years_without_a_published_figure_are_labelled_interpolated() -> None:
    tables = _tables()
    tables["contracts"]["registered_date"] = tables["contracts"]["registered_date"] - pd.DateOffset(
        years=2)
    rows = {r.figure: r for r in calibration_table(tables, SCALE)}
    assert rows["2018 contracts"].source == "MOST annual total (interpolation)"
    assert rows["2018 enterprise share of amount sold (%)"].source == "interpolated"
    assert "2018 university+institute contracts" not in rows  # only 2015 and 2020 are published
    assert "2020 trained brokers" not in rows and "2020 national institutions" not in rows


@pytest.mark.parametrize(("tolerance", "published", "generated", "ok"), [
    ("5%", 100.0, 104.9, True), ("5%", 100.0, 95.1, True), ("5%", 100.0, 105.1, False),
    ("10%", 200.0, 179.0, False), ("3pt", 90.0, 93.0, True), ("3pt", 90.0, 86.9, False),
    (">=1.0", 50.0, 50.0, True), (">=1.0", 50.0, 49.9, False), (">=1.0", 50.0, 500.0, True),
    pytest.param("5%", 100.0, 105.0, True, id="exactly on the tolerance"),
])
def test_row_tolerances(tolerance: str, published: float, generated: float, ok: bool) -> None:
    assert Row("f", published, generated, tolerance, "s").ok is ok


def test_format_table_marks_each_row_and_appends_shapes() -> None:
    rows = [Row("2020 contracts", 1234.56, 1200.0, "5%", "published"),
            Row("2020 amount (亿元)", 10.0, 20.0, "5%", "published")]
    lines = format_table(rows, {"mean / median amount": 4.25}).splitlines()
    assert lines[0].split() == ["figure", "published", "generated", "tol", "ok", "source"]
    assert lines[1].split() == ["2020", "contracts", "1,234.6", "1,200.0", "5%", "✓", "published"]
    assert lines[2].split()[-2:] == ["✗", "published"]
    assert lines[3].split() == ["mean", "/", "median", "amount", "4.2"]
    assert len(lines) == 4
    assert format_table([]).splitlines() == lines[:1]


def test_shape_figures_by_hand() -> None:
    shapes = shape_figures(_tables())
    assert shapes == pytest.approx({
        "mean / median amount": 2.5e6 / 1.5e6,
        "December share of registrations (%)": 25.0,
        "top-5 provinces' share of amount (%)": 100.0,  # only three provinces sell
        "largest technology field's share of contracts (%)": 75.0,
    })


def test_a_tiny_generated_market_meets_its_contract_figures() -> None:
    market = generate_market(MarketSpec(first_year=2019, last_year=2020, scale=0.005, seed=5))
    rows = calibration_table(market.tables, 0.005)
    by_figure = {r.figure: r for r in rows}
    years = market.tables["contracts"]["registered_date"].dt.year
    for y in (2019, 2020):
        assert by_figure[f"{y} contracts"].generated == (years == y).sum()
        for fig in ("contracts", "amount (亿元)", "average (万元)",
                    "enterprise share of amount sold (%)"):
            assert by_figure[f"{y} {fig}"].ok, fig
    assert by_figure["2020 contracts"].published == pytest.approx(549_400 * 0.005)
    assert by_figure["2020 trained brokers"].ok
    lines = format_table(rows).splitlines()[1:]
    assert [("✓" in line) for line in lines] == [r.ok for r in rows]
    assert [("✗" in line) for line in lines] == [not r.ok for r in rows]
