"""Contract features at registration: hand values, (day, id) order, and no look at the future."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.point_in_time.catalogue import MIN_PEERS, names_of
from features.point_in_time.contract import Groups, contract_features, peer_z, size_band
from features.point_in_time.history import History, prepare
from tests.features.point_in_time.test_build import _contract, hand_market


@pytest.fixture(scope="module")
def h() -> History:
    return prepare(hand_market())


@pytest.fixture(scope="module")
def every(h: History) -> pd.DataFrame:
    return contract_features(h, np.arange(len(h.contracts))).set_index("contract_id")


def test_size_band_edges() -> None:
    assert size_band(np.array([0, 1, 9, 10, 99, 100, 5000])).tolist() == [0, 1, 1, 2, 2, 3, 3]


def test_peer_z_uses_fine_peers_from_min_peers_on_and_floors_the_std() -> None:
    x = np.array([1.0, 1.0, 1.0])
    fine = (np.array([MIN_PEERS, MIN_PEERS - 1, 0]), np.zeros(3), np.full(3, MIN_PEERS * 0.25))
    coarse = (np.array([4, 4, 0]), np.array([4.0, 4.0, 0.0]), np.array([4.0, 4.0, 0.0]))
    z = peer_z(x, fine, coarse)
    assert z[0] == pytest.approx(2.0)  # fine: mean 0, std 0.5
    assert z[1] == pytest.approx(0.0)  # coarse: mean 1, std 0 floored to 0.1
    assert np.isnan(z[2])  # no earlier peer at all


def test_groups_count_earlier_rows_of_the_same_key() -> None:
    key = np.array([2, 1, 2, 2, 1])
    g, rows = Groups(key), np.arange(5)
    assert g.earlier(rows).tolist() == [0, 0, 1, 2, 1]
    assert g.previous(rows).tolist() == [-1, -1, 0, 2, 1]
    assert g.runs_earlier(np.array([0, 0, 0, 1, 1]), rows).tolist() == [0, 0, 1, 0, 0]
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    s, q = g.prior_sums(x, rows)
    assert s.tolist() == [0, 0, 1, 4, 2] and q.tolist() == [0, 0, 1, 10, 4]
    assert g.totals(key, x) == {1: [2, 7.0, 29.0], 2: [3, 8.0, 26.0]}
    neg = Groups(np.array([-3, 5, -3]))  # negative keys take the argsort path
    assert neg.earlier(np.arange(3)).tolist() == [0, 0, 1]


def test_rows_come_back_in_the_order_asked_with_all_columns(h: History) -> None:
    got = contract_features(h, np.array([3, 1]))
    assert got["contract_id"].tolist() == ["C0005", "C0007"]
    assert list(got.columns) == ["contract_id", "registered_date", *names_of("contract")]
    assert got["registered_date"].tolist() == [pd.Timestamp("2020-04-02"),
                                              pd.Timestamp("2019-12-15")]
    assert contract_features(h, np.array([], dtype=np.int64)).empty


def test_a_later_contract_sees_its_seller_pair_and_buyer_history(every: pd.DataFrame) -> None:
    c = every.loc["C0009"]  # S1->B1 on 2020-07-05
    assert c.ctr_seller_prior == 3  # C0007, C0001, C0002
    assert c.ctr_seller_days_since == 5
    assert c.ctr_seller_bad_share == pytest.approx(1 / 3)  # C0007 found false on 2020-03-01
    assert c.ctr_seller_conduct == 2  # D3 and D4 (2020-06-30) are both before 2020-07-05
    assert (c.ctr_buyer_prior, c.ctr_pair_prior, c.ctr_pair_same_day,
            c.ctr_reverse_pair_prior) == (2, 2, 0, 1)
    assert c.ctr_institution_conduct == 1  # D1; D2 is confirmed on 2020-07-10
    assert np.isnan(c.ctr_broker_conduct) and np.isnan(c.ctr_broker_recent)
    assert c.ctr_log_amount == pytest.approx(math.log(9e6))
    assert (c.ctr_round_amount, c.ctr_just_above_threshold) == (1, 0)
    # two earlier development contracts (fewer than MIN_PEERS): coarse peers, population std
    logs = np.log([1_010_000.0, 500_000.0])
    assert c.ctr_peer_z == pytest.approx((math.log(9e6) - logs.mean()) / logs.std())


def test_peer_z_and_first_contracts(every: pd.DataFrame) -> None:
    logs = np.log([300_000.5, 400_000.5])  # C0005, C0006: the service contracts before C0003
    assert every.loc["C0003", "ctr_peer_z"] == pytest.approx(
        (math.log(123_456.78) - logs.mean()) / logs.std())
    assert every.loc["C0006", "ctr_peer_z"] == pytest.approx((logs[1] - logs[0]) / 0.1)
    first = every.loc["C0007"]  # S1's first contract, B2's second, broker B001's first
    assert (first.ctr_seller_prior, first.ctr_buyer_prior) == (0, 1)
    assert np.isnan(first.ctr_seller_days_since) and np.isnan(first.ctr_seller_bad_share)
    assert first.ctr_institution_conduct == 1  # D1, 2019-08-01
    assert (first.ctr_broker_conduct, first.ctr_broker_recent, first.ctr_broker_spike) == (0, 0, 1)
    assert np.isnan(every.loc["C0008", "ctr_peer_z"])  # the very first licensing contract
    assert np.isnan(every.loc["C0010", "ctr_institution_conduct"])  # no institution


def test_same_day_contracts_are_ordered_by_id_not_by_input_row(h: History) -> None:
    tables = hand_market()
    c = tables["contracts"]
    # swap the ids of the two same-day contracts: the 500k one now comes first
    c["contract_id"] = c["contract_id"].replace({"C0001": "C0002", "C0002": "C0001"})
    tables["contracts"] = c.iloc[::-1].reset_index(drop=True)
    swapped = prepare(tables)
    got = contract_features(swapped, np.arange(len(swapped.contracts))).set_index("contract_id")
    assert got.loc["C0001", "ctr_log_amount"] == pytest.approx(math.log(500_000))
    assert (got.loc["C0001", "ctr_seller_prior"], got.loc["C0002", "ctr_seller_prior"]) == (1, 2)
    assert (got.loc["C0001", "ctr_pair_same_day"], got.loc["C0002", "ctr_pair_same_day"]) == (0, 1)


def test_one_row_alone_equals_that_row_in_a_batch(h: History, every: pd.DataFrame) -> None:
    for k in range(len(h.contracts)):
        alone = contract_features(h, np.array([k])).set_index("contract_id")
        pd.testing.assert_frame_equal(alone, every.iloc[[k]])


def test_records_after_registration_change_nothing(every: pd.DataFrame) -> None:
    tables = hand_market()
    future = pd.DataFrame([
        _contract("C0011", "S1", "B1", "2020-07-06", 7e6, "development", broker="B001",
                  status="false_found", status_date="2020-07-07"),
        _contract("C0012", "B1", "S1", "2020-07-06", 1e5, broker="B001"),
        _contract("C0013", "X1", "X3", "2020-07-08", 3e5),
    ])
    tables["contracts"] = pd.concat([tables["contracts"], future], ignore_index=True)
    d6 = tables["conduct_records"].iloc[[2]].assign(record_id="D6",
                                                    confirmed_date=pd.Timestamp("2020-07-06"))
    tables["conduct_records"] = pd.concat([tables["conduct_records"], d6], ignore_index=True)
    h = prepare(tables)
    got = contract_features(h, np.arange(len(h.contracts))).set_index("contract_id")
    pd.testing.assert_frame_equal(got.loc[every.index], every)
    # the future rows themselves do see the past
    assert got.loc["C0011", "ctr_seller_prior"] == 4
    assert got.loc["C0012", "ctr_reverse_pair_prior"] == 4  # C0001, C0002, C0009, C0011
