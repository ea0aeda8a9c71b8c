"""The market development index: base year 100, a weighted geometric mean of component
ratios; and docs/market-index.md rendered from the declared components."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from service.core.market_index import COMPONENTS, market_index_of, render_index_doc

DOC = Path(__file__).resolve().parents[3] / "docs" / "market-index.md"


def _contracts(year: int, n: int, tech: float, cross: int, brokered: int, revoked: int
               ) -> pd.DataFrame:
    return pd.DataFrame({
        "registered_date": pd.to_datetime([f"{year}-06-30"] * n),
        "amount_yuan": [tech * 1.2] * n, "tech_amount_yuan": [tech] * n,
        "seller_region": ["110000"] * n,
        "buyer_region": ["310000"] * cross + ["110000"] * (n - cross),
        "institution_id": [None] * n,
        "broker_id": ["B0001"] * brokered + [None] * (n - brokered),
        "status": ["revoked"] * revoked + ["registered"] * (n - revoked),
        "contract_type": ["development"] * n, "tech_field": ["other"] * n})


def test_index_is_100_then_the_weighted_geometric_mean_of_ratios() -> None:
    base = _contracts(2019, 10, 1e6, cross=5, brokered=5, revoked=1)
    later = _contracts(2020, 20, 1e6, cross=10, brokered=10, revoked=2)  # only volume doubles
    m = market_index_of(pd.concat([base, later]))
    assert [round(y.index, 6) for y in m.years] == [
        100.0, round(100 * 2 ** 0.30 * 2 ** 0.20, 6)]  # tech amount and contracts doubled
    assert m.years[1].contracts == 20 and m.years[1].tech_amount_yi == pytest.approx(0.2)
    assert [(f.seller_region, f.buyer_region, f.contracts) for f in m.flows] == [
        ("110000", "310000", 10)]
    assert math.isclose(sum(k.weight for k in COMPONENTS), 1.0)


def test_the_index_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_index_doc(), "run `techcredit docs`"
