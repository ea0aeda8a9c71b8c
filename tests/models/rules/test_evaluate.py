"""Batch evaluation: windowed rules count exactly, missing values never hit, and the real-time
check gives the same hits as the batch pass on the same sequence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.rules.contract import ContractRules, parse_contract_rules
from models.rules.evaluate import Hit, evaluate_contracts, evaluate_entities
from models.rules.online import RuleState

RULES = """
version = 1

[[rule]]
id = "repeat"
entity = "contract"
when = "ctr_just_above_threshold == 1"
per = "seller"
window_days = 90
min_hits = 2
tier = "yellow"
zh = "反复踩线"
en = "repeat ({ctr_log_amount:.1f})"

[[rule]]
id = "burst"
entity = "contract"
when = "ctr_broker_recent >= 8"
per = "broker"
window_days = 30
min_hits = 3
tier = "blue"
zh = "经纪人{ctr_broker_recent:.0f}"
en = "broker {ctr_broker_recent:.0f}"

[[rule]]
id = "split"
entity = "contract"
when = "ctr_pair_same_day >= 2"
tier = "orange"
zh = "同日{ctr_pair_same_day:.0f}份"
en = "{ctr_pair_same_day:.0f} the same day"

[[rule]]
id = "spike"
entity = "broker"
when = "brk_spike_ratio_30d >= 5"
tier = "yellow"
zh = "激增{brk_spike_ratio_30d:.1f}倍"
en = "spike x{brk_spike_ratio_30d:.1f}"
"""


def _rules() -> ContractRules:
    return parse_contract_rules(RULES.encode(), "test.toml")


def _typed(hit_frame: pd.DataFrame) -> list[Hit]:
    """The batch's hit table as the real-time check's hits."""
    return [Hit(r.rule_id, r.tier, r.zh, r.en, r.id) for r in hit_frame.itertuples(index=False)]


def _contracts(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["contract_id", "day", "seller_id", "broker_id",
                                        "ctr_just_above_threshold"])
    frame["registered_date"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(frame.pop("day"),
                                                                            unit="D")
    frame["buyer_id"] = "B"
    frame["institution_id"] = None
    frame["ctr_log_amount"] = 11.5
    frame["ctr_broker_recent"] = 0.0
    frame["ctr_pair_same_day"] = 0.0
    return frame


def test_a_windowed_rule_counts_exactly_in_the_trailing_window() -> None:
    frame = _contracts([
        ("C01", 0, "S1", None, 1),
        ("C02", 90, "S1", None, 1),   # exactly 90 days later: C01 is out of (d-90, d]
        ("C03", 179, "S1", None, 1),  # C02 is 89 days back: counts
        ("C04", 179, "S2", None, 1),  # another seller
        ("C05", 200, "S2", None, 0),  # does not meet the condition: neither fires nor counts
        ("C06", 230, "S2", None, 1),  # C04 is 51 days back
        ("C07", 400, "S3", None, 1),
        ("C09", 400, "S3", None, 1),  # same day: counts C07 (earlier id), fires
        ("C08", 400, None, None, 1),  # no seller: never counted
    ])
    hits = evaluate_contracts(_rules(), frame)
    assert sorted(hits["id"]) == ["C03", "C06", "C09"]
    assert set(hits["rule_id"]) == {"repeat"} and (hits["en"] == "repeat (11.5)").all()
    assert frame.loc[hits["row"], "contract_id"].tolist() == hits["id"].tolist()


def test_missing_values_do_not_hit() -> None:
    frame = _contracts([("C1", 0, "S1", "K1", np.nan), ("C2", 1, "S1", "K1", np.nan)])
    frame["ctr_pair_same_day"] = [np.nan, 2.0]
    hits = evaluate_contracts(_rules(), frame)
    assert hits["id"].tolist() == ["C2"] and hits["zh"].tolist() == ["同日2份"]


def _sequence(n: int, seed: int) -> pd.DataFrame:
    """Random contracts over a few parties, dense enough for windows to open and close."""
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(0, 200, n))
    days[5:8] = days[4]  # same-day runs
    days[20] = days[19] + 30  # a burst contract exactly 30 days after another
    frame = pd.DataFrame({
        "contract_id": [f"C{i:04d}" for i in rng.permutation(n)],
        "registered_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D"),
        "seller_id": rng.choice(["S1", "S2", "S3"], n),
        "buyer_id": rng.choice(["B1", "B2"], n),
        "broker_id": rng.choice(np.array(["K1", "K2", None], dtype=object), n),
        "institution_id": None,
        "ctr_just_above_threshold": rng.choice([0.0, 1.0, np.nan], n, p=[0.5, 0.4, 0.1]),
        "ctr_log_amount": rng.normal(11, 1, n),
        "ctr_broker_recent": rng.choice([0.0, 8.0, 12.0, np.nan], n),
        "ctr_pair_same_day": rng.choice([0.0, 1.0, 2.0], n, p=[0.8, 0.1, 0.1]),
    })
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # any row order


def test_the_real_time_check_gives_the_batch_hits() -> None:
    rules = _rules()
    for seed in range(5):
        frame = _sequence(160, seed)
        batch = _typed(evaluate_contracts(rules, frame))
        state = RuleState(rules)
        online = []
        ordered = frame.sort_values(["registered_date", "contract_id"])
        for record in ordered.to_dict("records"):
            online += state.check(record, record)
            state.register(record, record)
        key = lambda h: (h.subject_id, h.rule_id)  # noqa: E731
        assert sorted(online, key=key) == sorted(batch, key=key)
        assert {h.rule_id for h in batch} == {"repeat", "burst", "split"}


def test_entity_rules_run_on_entity_rows() -> None:
    frame = pd.DataFrame({"entity_id": ["K1", "K2", "K3"], "as_of": pd.Timestamp("2020-06-30"),
                          "brk_spike_ratio_30d": [6.0, 4.9, np.nan]})
    hits = evaluate_entities(_rules(), "broker", frame)
    assert hits["id"].tolist() == ["K1"] and hits["tier"].tolist() == ["yellow"]
    assert hits["en"].tolist() == ["spike x6.0"]
    assert evaluate_entities(_rules(), "institution", frame).empty
