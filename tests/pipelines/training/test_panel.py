"""The panel path on the small synthetic market: anomaly first, then credit with aggregates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from features.point_in_time.build import month_ends
from features.point_in_time.history import prepare
from features.settings import Settings
from features.synthetic.market import Market, generate_market, write_market
from features.synthetic.spec import MarketSpec
from models.entity_evidence import kind_names
from models.registry import ANOMALY_MODEL, CHALLENGER, CREDIT_MODEL, alias_version, tracking_for
from pipelines.build_features import build_task
from pipelines.training.panel import train_panel


@pytest.fixture(scope="module")
def seven_years() -> Market:
    """Train, gap, valid, gap, test need five as-of years before the last label year."""
    return generate_market(MarketSpec(first_year=2014, last_year=2020, scale=0.01, seed=3))


def test_panel_trains_and_registers_both_models(seven_years: Market, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    source = tmp_path / "market"
    write_market(seven_years, source)
    # the feature flow's own writer, run without Prefect
    build_task.fn(prepare(seven_years.tables), month_ends("2015-01", "2019-12"), settings,
                  seven_years.truth["contracts"])
    anomaly, credit = train_panel(settings, source)
    assert anomaly.model_name == ANOMALY_MODEL and credit.model_name == CREDIT_MODEL
    # a year left out between the parts: no outcome is shared across them
    assert credit.windows["test"][0].startswith("2019") and credit.windows["valid"] == (
        "2017-01-31", "2017-12-31") and credit.windows["train"][1] == "2015-12-31"
    # 0.01 scale: a few dozen irregular test contracts; the benchmark measures the power
    assert 0 < anomaly.metrics["anomaly_ap"] <= 1
    # a few hundred entities over three years: this checks the wiring, the benchmark the power
    assert (
        0 < credit.comparison["lightgbm"].auc < 1 and "scorecard baseline" in credit.comparison
    )
    tracking = tracking_for(settings)
    assert alias_version(tracking, CREDIT_MODEL, CHALLENGER) == credit.version
    features = tracking.client().download_artifacts(credit.run_id, "features.json", str(tmp_path))
    logged = pd.read_json(features, typ="series")
    listed, dropped = logged["features"], logged["dropped"]
    # every anomaly aggregate is a candidate: used, or dropped by name with the reason (the
    # flagged counts are constant on a market where no contract reaches the flag probability)
    assert all(a in listed or "permutation" in dropped[a] or dropped[a] == "constant"
               for a in kind_names("brk"))
    assert "region" not in listed and "entity_id" not in listed  # segments and keys only
    assert "truth_risk" not in listed  # the hidden truth is a ceiling, never a feature
    review = tracking.client().download_artifacts(credit.run_id, "review/review.json",
                                                  str(tmp_path))
    sections = {s["title_en"]: s for s in pd.read_json(review, typ="series")["sections"]}
    rows = sections["Intervals (entity-clustered bootstrap)"]["rows"]
    intervals = {r["segment"]: r for r in rows}
    assert set(intervals) == {"all", "broker", "institution"}
    assert "ceiling AUC (hidden truth)" in intervals["all"]
    assert "Permutation importance (test period)" in sections
    # the warnings the entity rules in force would raise on the test period, tier by tier
    tiers = sections["Warnings of the rules in force on the test period: share and precision "
                     "per tier"]
    shares = {(r["entity"], r["tier"]): r["share"] for r in tiers["rows"]}
    assert shares[("institution", "scored")] == 1.0 and 0 <= shares[("broker", "warned")] <= 1
    assert "anomaly_share_high" in tiers["note"]  # named as not evaluated here
    assert credit.metrics["warning.tier.scored.broker.share"] == 1.0
    review = tracking.client().download_artifacts(anomaly.run_id, "review/review.json",
                                               str(tmp_path / "a"))
    sections = {s["title_en"]: s for s in pd.read_json(review, typ="series")["sections"]}
    recall = {r["pattern"]: r for r in sections[
        "Recall per fraud pattern at review capacity: model, rules, combined"]["rows"]}
    assert {"long_cycle", "phantom_buyer", "wash_pair", "all"} <= set(recall)
    assert recall["wash_pair"]["held_out"] and not recall["split"]["held_out"]
    assert all(0 <= r[f"recall_{k}"] <= 1 for r in recall.values()
               for k in ("model", "rules", "combined"))
    exposure = sections["False positives on the largest honest parties"]["rows"]
    assert [r["ranking"] for r in exposure] == ["model", "rules", "combined"]
    assert "recall_rules_all" in anomaly.metrics
