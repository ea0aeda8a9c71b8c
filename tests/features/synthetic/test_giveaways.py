"""No column of the synthetic market gives the truth away unless a pattern declares it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.synthetic.giveaways import auc, column_aucs, offending, oof_rate
from features.synthetic.market import Market, generate_market
from features.synthetic.patterns import PATTERN_SPECS, declared
from features.synthetic.spec import MarketSpec


@pytest.fixture(scope="module")
def market() -> Market:
    """About 180,000 contracts and 3,400 irregular ones: a ±0.05 band is well above noise."""
    return generate_market(MarketSpec(first_year=2011, last_year=2020, scale=0.05, seed=5))


def test_no_undeclared_column_separates_planted_from_honest_rows(market: Market) -> None:
    results = column_aucs(market.tables, market.truth)
    bad = offending(results)
    assert bad == [], "giveaways:\n" + "\n".join(r.describe() for r in bad)
    scored = {(r.table, r.column, r.derived) for r in results if not r.declared}
    assert {("contracts", "amount_yuan", "cents"), ("contracts", "registered_date", "year_end"),
            ("contracts", "broker_id", "other_institution"), ("contracts", "institution_id",
            "is_null"), ("institutions", "region", "value")} <= scored
    contracts = [r for r in results if r.table == "contracts" and not r.declared]
    assert all(r.tolerance == pytest.approx(0.05) for r in contracts)


def test_declared_patterns_are_the_ones_that_show(market: Market) -> None:
    results = {(r.table, r.column, r.derived): r for r in column_aucs(market.tables,
                                                                       market.truth)}
    status = results[("contracts", "status", "value")]
    assert status.declared and status.auc > 0.55  # audits find planted contracts
    assert declared("contracts", "amount_yuan", "value")
    assert not declared("contracts", "amount_yuan", "cents")
    assert all(p.columns_touched and p.how and p.how_zh for p in PATTERN_SPECS)


def _frame(rng: np.random.Generator, leak: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = 20_000
    y = rng.random(n) < 0.05
    region = rng.choice(list("ABCDEFGHIJ"), n)
    region[y & (rng.random(n) < leak)] = "Z"  # planted rows favour one level
    cents = rng.random(n) < np.where(y, 0.35 + leak, 0.35)
    return y, region, cents.astype(float)


def test_the_checker_catches_a_leaking_column_and_passes_a_clean_one() -> None:
    rng = np.random.default_rng(0)
    y, region, cents = _frame(rng, leak=0.4)
    assert auc(oof_rate(region, y), y) > 0.65
    assert auc(cents, y) > 0.65
    y, region, cents = _frame(rng, leak=0.0)
    assert abs(auc(oof_rate(region, y), y) - 0.5) < 0.05
    assert abs(auc(cents, y) - 0.5) < 0.05


def test_out_of_fold_encoding_does_not_reward_memorising_ids() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(10_000) < 0.1
    ids = pd.Series(np.arange(10_000)).astype(str).to_numpy()  # one level per row
    assert abs(auc(oof_rate(ids, y), y) - 0.5) < 0.05
