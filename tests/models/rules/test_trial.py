"""A try's tier table: per kind of subject, each tier's warnings, their share of everyone
scored and their precision, then all warnings and everyone (the base rate)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from models.rules.trial import format_tiers, tier_metrics, tier_summary


def _scored() -> pd.DataFrame:
    # institutions: 10 scored, 1 red (bad), 2 yellow (one bad), 7 unwarned (one bad)
    inst = [("red", True), ("yellow", True), ("yellow", False)] + [(None, False)] * 6 + [
        (None, True)]
    brokers = [("blue", False), (None, False)]
    rows = [{"id": f"I{i}", "date": "2020-01-31", "entity": "institution", "tier": t,
             "irregular": bad} for i, (t, bad) in enumerate(inst)]
    rows += [{"id": f"B{i}", "date": "2020-01-31", "entity": "broker", "tier": t,
              "irregular": bad} for i, (t, bad) in enumerate(brokers)]
    return pd.DataFrame(rows)


def test_tiers_read_share_and_precision_beside_the_base_rate() -> None:
    table = tier_summary(_scored()).set_index(["entity", "tier"])
    inst = table.loc["institution"]
    assert list(inst.index) == ["red", "orange", "yellow", "blue", "warned", "scored"]
    assert (inst.at["red", "entities"], inst.at["red", "precision"]) == (1, 1.0)
    assert inst.at["yellow", "share"] == pytest.approx(0.2)
    assert inst.at["yellow", "precision"] == pytest.approx(0.5)
    assert inst.at["orange", "entities"] == 0 and math.isnan(inst.at["orange", "precision"])
    assert (inst.at["warned", "entities"], inst.at["warned", "irregular"]) == (3, 2)
    assert inst.at["warned", "share"] == pytest.approx(0.3)
    assert inst.at["scored", "precision"] == pytest.approx(0.3)  # the base rate
    assert table.loc[("broker", "warned"), "share"] == pytest.approx(0.5)
    assert table.loc[("broker", "blue"), "precision"] == 0.0


def test_printed_and_logged_forms() -> None:
    table = tier_summary(_scored())
    text = format_tiers(table)
    assert "30.0%" in text and "-" in text  # the orange row has no precision
    metrics = tier_metrics(table)
    assert metrics["tier.warned.institution.share"] == pytest.approx(0.3)
    assert metrics["tier.red.institution.precision"] == 1.0
    assert "tier.orange.institution.precision" not in metrics  # not known: left out
    assert metrics["tier.orange.institution.share"] == 0.0
