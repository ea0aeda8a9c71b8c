"""Fixtures of the pipeline tests."""

from __future__ import annotations

import pandas as pd
import pytest

from features.synthetic.market import generate_market
from features.synthetic.spec import MarketSpec


@pytest.fixture(scope="module")
def market() -> dict[str, pd.DataFrame]:
    """A tiny two-year market (a few hundred contracts) for ingest runs."""
    return generate_market(MarketSpec(2019, 2020, 0.002, 5)).tables
