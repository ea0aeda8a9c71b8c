"""The panel path on the small synthetic market: anomaly first, then credit with aggregates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.point_in_time.build import build_panel, month_ends
from features.point_in_time.labels import panel_labels
from features.settings import Settings
from features.synthetic.market import Market
from models.anomaly import aggregate_names
from models.registry import ANOMALY_MODEL, CHALLENGER, CREDIT_MODEL, alias_version, store_for
from pipelines.build_features import feature_path
from pipelines.train_panel import train_panel

pytestmark = pytest.mark.slow


def test_panel_trains_and_registers_both_models(
    small_market: Market, small_market_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    dates = month_ends("2017-01", "2019-12")
    panel = build_panel(small_market.tables, dates)
    labels = panel_labels(small_market.tables, panel, small_market.truth["contracts"])
    for kind in panel:
        for frame, is_label in ((panel[kind], False), (labels[kind], True)):
            for as_of, part in frame.groupby("as_of"):
                path = feature_path(settings, kind, pd.Timestamp(as_of), labels=is_label)
                path.parent.mkdir(parents=True, exist_ok=True)
                part.to_parquet(path, index=False)
    anomaly, credit = train_panel(settings, small_market_dir)
    assert anomaly.model_name == ANOMALY_MODEL and credit.model_name == CREDIT_MODEL
    assert credit.windows["test"][0].startswith("2019") and credit.windows["train"][1] < "2018"
    assert "anomaly_ap" in anomaly.metrics and anomaly.metrics["anomaly_ap_lift"] > 1
    # a few hundred entities over three years: this checks the wiring, the benchmark the power
    assert (
        0 < credit.comparison["lightgbm"].auc < 1 and "scorecard baseline" in credit.comparison
    )
    store = store_for(settings)
    assert alias_version(store, CREDIT_MODEL, CHALLENGER) == credit.version
    features = store.client().download_artifacts(credit.run_id, "features.json", str(tmp_path))
    listed = pd.read_json(features, typ="series")["features"]
    assert set(aggregate_names("brk")) <= set(listed) and "entity_kind" in listed
    assert "region" not in listed  # a reporting segment, never a feature
