"""Labels look strictly after as_of and at most 12 months ahead."""

from __future__ import annotations

import pandas as pd

from features.point_in_time.labels import contract_labels, entity_labels
from tests.features.point_in_time.test_build import hand_market

AS_OF = pd.Timestamp("2020-06-30")


def _with_conduct(confirmed: dict[str, str]) -> dict[str, pd.DataFrame]:
    tables = hand_market()
    tables["conduct_records"] = pd.DataFrame({
        "record_id": [f"D{i}" for i in range(len(confirmed))],
        "subject_kind": ["institution" if s.startswith("I") else "broker" for s in confirmed],
        "subject_id": list(confirmed), "conduct_kind": ["split_contracts"] * len(confirmed),
        "severity": ["minor"] * len(confirmed),
        "occurred_date": pd.to_datetime(["2019-01-01"] * len(confirmed)),
        "confirmed_date": pd.to_datetime(list(confirmed.values())),
        "related_contract_id": [None] * len(confirmed), "source": ["x"] * len(confirmed),
    })
    return tables


def test_entity_label_window_is_after_as_of_through_twelve_months() -> None:
    # I001 on the last day of the horizon counts; I002 on as_of itself does not
    tables = _with_conduct({"I001": "2021-06-30", "I002": "2020-06-30", "B002": "2021-07-01",
                            "B001": "2020-07-01"})
    inst = entity_labels(tables, "institution", AS_OF, data_end="2021-12-31")
    assert dict(zip(inst["entity_id"], inst["y_12m"], strict=True)) == {"I001": True, "I002": False}
    assert inst["label_complete"].all() and (inst["as_of"] == AS_OF).all()
    brk = entity_labels(tables, "broker", AS_OF, data_end="2021-03-31")
    assert dict(zip(brk["entity_id"], brk["y_12m"], strict=True)) == {"B001": True, "B002": False}
    assert not brk["label_complete"].any()  # data end before the horizon: censored


def test_contract_label_is_false_found_within_the_horizon() -> None:
    tables = hand_market()
    c = tables["contracts"]
    cols = ["status", "status_date"]
    c.loc[c["contract_id"] == "C0001", cols] = ["false_found", pd.Timestamp("2021-06-30")]
    c.loc[c["contract_id"] == "C0002", cols] = ["false_found", pd.Timestamp("2021-07-01")]
    truth = pd.DataFrame({"contract_id": ["C0001", "C0002"], "is_irregular": [True, True],
                          "pattern": ["threshold", "split"], "event_id": [1, 2]})
    got = contract_labels(tables, pd.Series(["C0001", "C0002", "C0010"]), AS_OF, truth)
    assert got["y_false_found"].tolist() == [True, False, False]
    assert got["is_irregular"].tolist() == [True, True, False]
    assert got["pattern"].tolist() == ["threshold", "split", ""]
