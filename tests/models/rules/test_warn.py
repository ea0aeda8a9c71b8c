"""Warning by the entity rules: the shipped tiers on constructed cases, every firing rule listed
most severe first, reasons in both languages, and anomaly shares per institution and broker."""

from __future__ import annotations

import pandas as pd
import pytest

from models.declared import load
from models.rules.entity import (
    ENTITY_RULES,
    AnomalyShare,
    AnomalyWindow,
    EntityRules,
    WarningInputs,
    parse_entity_rules,
)
from models.rules.warn import anomaly_shares, warn


@pytest.fixture(scope="module")
def rules() -> EntityRules:
    return load(ENTITY_RULES, parse_entity_rules)


def _one(rules: EntityRules, grade: str, previous: str | None = None, probability: float = 0.05,
         share: AnomalyShare | None = None, points: float = 560.0) -> tuple[str | None, tuple]:
    alert = warn(rules, [WarningInputs(points, probability, grade, previous, share)])[0]
    return (alert.tier, alert.codes) if alert else (None, ())


def test_default_rules_give_the_highest_tier_and_every_firing_rule(rules: EntityRules) -> None:
    assert rules.version >= 2 and rules.source == str(ENTITY_RULES)
    assert _one(rules, "A") == (None, ())
    assert _one(rules, "B", "B") == (None, ())
    assert _one(rules, "C") == (None, ())  # a first score alone warns no one
    assert _one(rules, "C", "C") == (None, ())
    assert _one(rules, "C", "B") == ("yellow", ("grade_drop_into_c",))
    assert _one(rules, "B", "A") == (None, ())  # one step, still above C
    assert _one(rules, "C", "A") == ("orange", ("grade_drop_two",))
    assert _one(rules, "D", "D", probability=0.2) == (None, ())  # the base rate: no warning
    assert _one(rules, "D", "D", probability=0.4) == ("red", ("grade_d_high_probability",))
    # every firing rule is listed, the most severe first
    assert _one(rules, "D", "A", probability=0.2, share=AnomalyShare(5, 0.2)) == (
        "orange", ("grade_drop_two", "anomaly_share_elevated"))
    assert _one(rules, "A", "A", share=AnomalyShare(4, 0.5)) == ("red", ("anomaly_share_high",))
    assert _one(rules, "A", "A", share=AnomalyShare(2, 1.0)) == (None, ())  # too few contracts
    assert _one(rules, "A", "A", share=AnomalyShare(10, 0.05)) == (None, ())


@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
@pytest.mark.parametrize("probability", [0.01, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("share", [None, AnomalyShare(1, 0.0), AnomalyShare(5, 0.4)])
def test_no_shipped_rule_warns_on_a_first_score_alone(
        rules: EntityRules, grade: str, probability: float, share: AnomalyShare | None) -> None:
    """Being scored for the first time never adds a warning: a first score warns exactly as
    the same score after an earlier one of the same grade."""
    assert _one(rules, grade, None, probability, share) == _one(
        rules, grade, grade, probability, share)


def test_reasons_are_formatted_in_both_languages(rules: EntityRules) -> None:
    [alert] = warn(rules, [WarningInputs(530.0, 0.35, "D", "B", AnomalyShare(4, 0.5))])
    assert alert is not None and alert.tier == "red"
    assert alert.codes == ("grade_d_high_probability", "anomaly_share_high", "grade_drop_two")
    assert alert.reasons_en[2] == "grade fell 2 steps, from B to D"
    assert alert.reasons_zh[2] == "信用等级由B降至D，下降2级"
    assert alert.reasons_en[1] == ("50% of its 4 contracts in 365 days have an anomaly "
                                   "probability of 20% or more")
    assert "35.0%" in alert.reasons_zh[0]
    assert len(alert.reasons_zh) == len(alert.reasons_en) == len(alert.codes)


def test_anomaly_share_counts_the_window_per_institution_and_broker() -> None:
    scores = pd.DataFrame({
        "contract_id": ["c1", "c2", "c3", "c4", "c5"],
        "registered_date": pd.to_datetime(
            ["2019-07-01", "2019-07-02", "2020-03-01", "2020-06-30", "2020-07-01"]),
        "institution_id": ["I1", "I1", "I1", "I1", None],
        "broker_id": [None, "B1", None, "B1", "B1"],
        "p_anomaly": [0.9, 0.9, 0.1, 0.2, 0.9],
    })
    shares = anomaly_shares(scores, pd.Timestamp("2020-06-30"), AnomalyWindow(0.2, 365))
    # 365 days back from 2020-06-30 (a leap year) is 2019-07-01: c1 is just out, c5 too late
    assert shares == {("institution", "I1"): AnomalyShare(3, pytest.approx(2 / 3)),
                      ("broker", "B1"): AnomalyShare(2, 1.0)}
