"""A tiny market with both models trained and promoted, shared by the scoring tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.point_in_time.build import month_ends
from features.point_in_time.history import prepare
from features.settings import Settings
from features.synthetic.market import generate_market, write_market
from features.synthetic.spec import MarketSpec
from models.registry import ANOMALY_MODEL, CREDIT_MODEL, gate_thresholds, promote, store_for
from pipelines.build_features import build_task
from pipelines.train_panel import train_panel


@dataclass(frozen=True)
class Trained:
    settings: Settings
    source: Path
    contracts: pd.DataFrame  # the market's contract table


def train_tiny_market(tmp: Path) -> Trained:
    """Both models trained on a 0.01 market (2014-2020, features to 2019), first versions
    promoted with a recorded override as the demo does."""
    market = generate_market(MarketSpec(first_year=2014, last_year=2020, scale=0.01, seed=3))
    settings = Settings(home=tmp / "home")
    source = tmp / "market"
    write_market(market, source)
    # the feature flow's own writer, run without Prefect
    build_task.fn(prepare(market.tables), month_ends("2015-01", "2019-12"), settings,
                  market.truth["contracts"])
    train_panel(settings, source)
    for name in (ANOMALY_MODEL, CREDIT_MODEL):
        promote(store_for(settings), name, "1", reviewer="demo", note="test: demo promotion",
                thresholds=gate_thresholds(settings), override=True)
    return Trained(settings, source, market.tables["contracts"])
