"""History preparation: day numbers, calendar helpers, codes, registration order, prepare()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.point_in_time.history import (
    NEVER,
    History,
    codes_in,
    day_of,
    days,
    month_of_days,
    prepare,
    registration_order,
    year_of_days,
)
from tests.features.point_in_time.test_build import hand_market


@pytest.fixture(scope="module")
def h() -> History:
    return prepare(hand_market())


def test_days_counts_from_1970_and_missing_dates_never_happen() -> None:
    assert days(pd.Series(["1970-01-02", None, "2020-01-01"])).tolist() == [1, NEVER, 18262]
    stamps = np.array(["2020-06-30T23:59", "NaT"], dtype="datetime64[s]")
    assert days(stamps).tolist() == [18443, NEVER]  # the time of day is dropped
    assert days(pd.Series(pd.to_datetime(["1969-12-31"]))).dtype == np.int64
    assert days(pd.Series(pd.to_datetime(["1969-12-31"]))).tolist() == [-1]


def test_day_of_takes_text_timestamps_and_numpy_dates() -> None:
    assert day_of("1970-01-01") == 0
    assert day_of(pd.Timestamp("2020-06-30 15:00")) == 18443
    assert day_of(np.datetime64("2020-01-01")) == 18262


def test_month_and_year_of_day_numbers() -> None:
    d = np.array([0, 31, 59, 18443, -1, 18627])
    assert month_of_days(d).tolist() == [1, 2, 3, 6, 12, 12]
    assert year_of_days(d).tolist() == [1970, 1970, 1970, 2020, 1969, 2020]


def test_codes_in_gives_positions_and_minus_one_for_unknown_or_missing() -> None:
    assert codes_in(pd.Series(["b", "x", None, "a"]), ["a", "b"]).tolist() == [1, -1, -1, 0]
    obj = pd.Series(["b", None, "a"], dtype=object)
    assert codes_in(obj, pd.Index(["a", "b"])).tolist() == [1, -1, 0]
    # a missing value never matches, even a level spelled "nan"
    assert codes_in(pd.Series(["nan", np.nan]), ["nan"]).tolist() == [0, -1]
    assert codes_in(pd.Series([1, 2]), ["2"]).tolist() == [-1, 0]  # numbers compared as text


def test_registration_order_sorts_by_day_then_id_as_text() -> None:
    frame = pd.DataFrame({"contract_id": ["C2", "C1", "C3", "C10"]})
    # day 4: C3; day 5: "C1" < "C10" < "C2"
    assert registration_order(frame, np.array([5, 5, 4, 5])).tolist() == [2, 1, 3, 0]
    ordered = pd.DataFrame({"contract_id": ["A", "B", "C"]})
    assert registration_order(ordered, np.array([1, 1, 2])).tolist() == [0, 1, 2]
    assert registration_order(ordered, np.array([2, 1, 3])).tolist() == [1, 0, 2]


def test_prepare_sorts_contracts_and_codes_parties_in_one_space(h: History) -> None:
    c = h.contracts
    assert c["contract_id"].tolist() == ["C0008", "C0007", "C0004", "C0005", "C0006", "C0003",
                                         "C0010", "C0001", "C0002", "C0009"]
    assert np.all(np.diff(c["reg"].to_numpy()) >= 0)
    # parties numbered by first appearance among sellers, then buyers
    assert h.party_ids.tolist() == ["S2", "S1", "X1", "X2", "X3", "B1", "S3", "B2", "B3"]
    s1, b1 = h.party_ids.get_loc("S1"), h.party_ids.get_loc("B1")
    c3 = c[c["contract_id"] == "C0003"].iloc[0]
    assert (c3["seller"], c3["buyer"]) == (b1, s1)  # B1 sells to S1: the same codes reversed
    assert c["inst"].tolist() == [0, 0, 0, 1, 1, 0, -1, 0, 0, 0]
    assert c["broker"].tolist() == [-1, 0, -1, -1, -1, -1, 1, 0, 0, -1]
    assert c.loc[c["contract_id"] == "C0001", "signed"].item() == day_of("2020-06-27")


def test_prepare_dates_bad_and_false_status_days(h: History) -> None:
    c = h.contracts.set_index("contract_id")
    assert c.loc["C0007", "bad_day"] == c.loc["C0007", "false_day"] == day_of("2020-03-01")
    assert c.loc["C0008", "bad_day"] == day_of("2020-08-01")
    assert c.loc["C0008", "false_day"] == NEVER  # revoked is bad, but not found false
    assert c.loc["C0001", "bad_day"] == c.loc["C0001", "status_day"] == NEVER


def test_prepare_codes_conduct_subjects_by_their_kind(h: History) -> None:
    cr = h.conduct
    assert cr["kind"].tolist() == ["institution", "institution", "party", "party", "broker"]
    s1 = h.party_ids.get_loc("S1")
    assert cr["subject"].tolist() == [0, 0, s1, s1, 1]
    assert cr["serious"].tolist() == [True, False, False, False, False]
    assert h.reports["inst"].tolist() == [0, 0]
    assert h.institutions["founded"].tolist()[3] == day_of("2020-08-01")
    assert h.brokers["affiliated"].tolist() == [True, False]


def test_prepare_accepts_text_dates_and_shuffled_rows(h: History) -> None:
    tables = hand_market()
    c = tables["contracts"].iloc[::-1].reset_index(drop=True)
    for col in ("registered_date", "signed_date", "status_date"):
        c[col] = c[col].dt.strftime("%Y-%m-%d")
    tables["contracts"] = c
    again = prepare(tables)
    pd.testing.assert_frame_equal(again.contracts.drop(columns=["seller", "buyer"]),
                                  h.contracts.drop(columns=["seller", "buyer"]))
    # party codes may differ, the parties may not
    for side in ("seller", "buyer"):
        assert (again.party_ids[again.contracts[side]].tolist()
                == h.party_ids[h.contracts[side]].tolist())


def test_prepare_returns_a_prepared_history_unchanged(h: History) -> None:
    assert prepare(h) is h


def test_last_day_is_the_latest_record_of_any_kind(h: History) -> None:
    # the 2020 report submitted on 2021-03-01 beats C0009 (2020-07-05) and C0008's revocation
    assert h.last_day == day_of("2021-03-01")
    tables = hand_market()
    tables["institution_reports"] = tables["institution_reports"].iloc[:1]
    tables["conduct_records"] = tables["conduct_records"].iloc[:0]
    assert prepare(tables).last_day == day_of("2020-08-01")  # the revocation of C0008
