"""Each feature family on a small hand-made market, against values worked out by hand.

The market, as of 2020-06-30:

- I001 facilitates C0001-C0004, C0007, C0008 (and C0009, registered after as_of);
- C0001 and C0002 are the same pair S1->B1 on as_of itself (a split), C0003 goes back B1->S1;
- C0004-C0006 form the ring X1->X2->X3->X1;
- C0007 was found false on 2020-03-01 (known); C0008 is revoked on 2020-08-01 (not yet known);
- I003 exited before as_of and I004 was founded after it, so neither gets a row.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.point_in_time.build import (
    KINDS,
    build_features,
    build_month,
    build_panel,
    month_ends,
    panel_months,
    stack,
)
from features.point_in_time.catalogue import names_of
from features.point_in_time.history import prepare

AS_OF = pd.Timestamp("2020-06-30")


def _days(a: str, b: str = "2020-06-30") -> float:
    return float((pd.Timestamp(b) - pd.Timestamp(a)).days)


def _contract(cid: str, seller: str, buyer: str, reg: str, amount: float, ctype: str = "service",
              inst: str | None = "I001", broker: str | None = None, status: str = "registered",
              status_date: str | None = None) -> dict:
    return {
        "contract_id": cid, "signed_date": pd.Timestamp(reg) - pd.Timedelta(days=3),
        "registered_date": pd.Timestamp(reg), "contract_type": ctype, "seller_id": seller,
        "seller_kind": "enterprise", "seller_region": "110000", "buyer_id": buyer,
        "buyer_kind": "enterprise", "buyer_region": "310000" if buyer.startswith("B") else "440000",
        "institution_id": inst, "broker_id": broker, "amount_yuan": amount,
        "tech_amount_yuan": amount * 0.9, "tech_field": "electronic_information",
        "office_id": "OF11000001", "status": status,
        "status_date": pd.Timestamp(status_date) if status_date else pd.NaT,
    }


def hand_market() -> dict[str, pd.DataFrame]:
    contracts = pd.DataFrame([
        _contract("C0001", "S1", "B1", "2020-06-30", 1_010_000.0, "development", broker="B001"),
        _contract("C0002", "S1", "B1", "2020-06-30", 500_000.0, "development", broker="B001"),
        _contract("C0003", "B1", "S1", "2020-05-01", 123_456.78, "service"),
        _contract("C0004", "X1", "X2", "2020-04-01", 200_000.5, "consulting"),
        _contract("C0005", "X2", "X3", "2020-04-02", 300_000.5, inst="I002"),
        _contract("C0006", "X3", "X1", "2020-04-03", 400_000.5, inst="I002"),
        _contract("C0007", "S1", "B2", "2019-12-15", 2_000_000.0, "transfer", broker="B001",
                  status="false_found", status_date="2020-03-01"),
        _contract("C0008", "S2", "B2", "2019-01-10", 1_000_000.0, "licensing", status="revoked",
                  status_date="2020-08-01"),
        _contract("C0009", "S1", "B1", "2020-07-05", 9_000_000.0, "development"),
        _contract("C0010", "S3", "B3", "2020-06-20", 50_000.0, inst=None, broker="B002"),
    ])
    institutions = pd.DataFrame({
        "institution_id": ["I001", "I002", "I003", "I004"], "name": ["a", "b", "c", "d"],
        "institution_type": ["university", "private", "private", "private"],
        "region": ["110000"] * 4, "level": ["national", "other", "other", "other"],
        "founded_date": pd.to_datetime(["2010-01-01", "2019-01-01", "2012-01-01", "2020-08-01"]),
        "designated_date": pd.to_datetime(["2015-01-01", None, None, None]),
        "status": ["active", "warned", "exited", "active"],
        "status_date": pd.to_datetime([None, "2020-07-15", "2020-03-01", None]),
    })
    brokers = pd.DataFrame({
        "broker_id": ["B001", "B002"], "institution_id": ["I001", None],
        "cert_level": ["senior", "junior"], "region": ["110000", "110000"],
        "certified_date": pd.to_datetime(["2018-01-01", "2020-06-01"]), "training_hours": [100, 20],
    })
    reports = pd.DataFrame({
        "report_id": ["R2019", "R2020"], "institution_id": ["I001", "I001"],
        "report_year": [2019, 2020], "submitted_date": pd.to_datetime(["2020-03-15", "2021-03-01"]),
        "staff": [10, 99], "trained_staff": [6, 99], "contracts_reported": [4, 99],
        "amount_reported_yuan": [5_000_000.0, 1.0], "service_revenue_yuan": [1_000_000.0, 1.0],
        "clients_served": [20, 99], "complaints": [2, 99],
    })
    conduct = pd.DataFrame({
        "record_id": ["D1", "D2", "D3", "D4", "D5"],
        "subject_kind": ["institution", "institution", "party", "party", "broker"],
        "subject_id": ["I001", "I001", "S1", "S1", "B002"],
        "conduct_kind": ["split_contracts"] * 5,
        "severity": ["serious", "minor", "minor", "minor", "minor"],
        "occurred_date": pd.to_datetime(["2019-01-01"] * 5),
        "confirmed_date": pd.to_datetime(["2019-08-01", "2020-07-10", "2020-01-01", "2020-06-30",
                                          "2020-06-30"]),
        "related_contract_id": [None] * 5, "source": ["x"] * 5,
    })
    return {"institutions": institutions, "brokers": brokers, "contracts": contracts,
            "institution_reports": reports, "conduct_records": conduct}


@pytest.fixture(scope="module")
def built() -> dict[str, pd.DataFrame]:
    return build_features(hand_market(), AS_OF)


def _row(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    rows = frame[frame[key] == value]
    assert len(rows) == 1
    return rows.iloc[0]


def test_rows_are_the_entities_present_at_as_of(built: dict[str, pd.DataFrame]) -> None:
    assert built["institution"]["entity_id"].tolist() == ["I001", "I002"]
    assert built["broker"]["entity_id"].tolist() == ["B001", "B002"]
    # contracts registered in June 2020 up to as_of, in registration order
    assert built["contract"]["contract_id"].tolist() == ["C0010", "C0001", "C0002"]
    for kind in ("institution", "broker", "contract"):
        feats = [c for c in built[kind].columns if c[:4] in ("inst", "brk_", "ctr_")]
        assert feats == names_of(kind)
        assert (built[kind]["as_of"] == AS_OF).all()


def test_activity(built: dict[str, pd.DataFrame]) -> None:
    i = _row(built["institution"], "entity_id", "I001")
    # C0004 is exactly 90 days old: inside 365d, outside 90d; C0009 is after as_of
    assert (i.inst_contracts_30d, i.inst_contracts_90d, i.inst_contracts_365d,
            i.inst_contracts_all) == (2, 3, 5, 6)
    assert i.inst_amount_90d == pytest.approx(1_010_000 + 500_000 + 123_456.78)
    last_year = 1_010_000 + 500_000 + 123_456.78 + 200_000.5 + 2_000_000
    assert i.inst_amount_365d == pytest.approx(last_year)
    assert i.inst_amount_growth_365d == pytest.approx(math.log((last_year + 1) / (1_000_000 + 1)))
    assert i.inst_december_share_365d == pytest.approx(1 / 5)
    assert (i.inst_type_development_share_365d, i.inst_type_transfer_share_365d,
            i.inst_type_licensing_share_365d, i.inst_type_consulting_share_365d,
            i.inst_type_service_share_365d) == pytest.approx((2 / 5, 1 / 5, 0, 1 / 5, 1 / 5))


def test_concentration(built: dict[str, pd.DataFrame]) -> None:
    i = _row(built["institution"], "entity_id", "I001")
    by_buyer = np.array([1_510_000, 123_456.78, 200_000.5, 2_000_000])  # B1, S1, X2, B2
    assert i.inst_buyer_hhi_365d == pytest.approx(((by_buyer / by_buyer.sum()) ** 2).sum())
    by_seller = np.array([1_510_000 + 2_000_000, 123_456.78, 200_000.5])  # S1, B1, X1
    assert i.inst_seller_hhi_365d == pytest.approx(((by_seller / by_seller.sum()) ** 2).sum())
    # buyers B* are in 310000, the others in 440000
    by_region = np.array([1_510_000 + 2_000_000, 123_456.78 + 200_000.5])
    assert i.inst_region_hhi_365d == pytest.approx(((by_region / by_region.sum()) ** 2).sum())
    assert i.inst_repeat_pair_share_365d == pytest.approx(2 / 5)


def test_integrity(built: dict[str, pd.DataFrame]) -> None:
    i = _row(built["institution"], "entity_id", "I001")
    assert i.inst_threshold_share_365d == pytest.approx(1 / 5)  # C0001: 1.01M
    assert i.inst_round_share_365d == pytest.approx(3 / 5)  # C0001, C0002, C0007
    assert i.inst_split_share_365d == pytest.approx(2 / 5)  # C0001 + C0002, same pair, same day
    assert i.inst_reciprocal_share_365d == pytest.approx(3 / 5)  # S1<->B1: C0001-C0003
    assert i.inst_cycle_share_365d == pytest.approx(1 / 5)  # C0004 on X1->X2->X3->X1
    # C0007 found false before as_of counts; C0008 revoked after as_of still counts as registered
    assert i.inst_bad_status_share_all == pytest.approx(1 / 6)
    assert i.inst_false_found_all == 1
    # the 2019 report (submitted 2020-03-15) against the register's 2019: C0007 + C0008
    assert i.inst_report_amount_gap == pytest.approx(math.log(5_000_001 / 3_000_001))
    assert i.inst_report_count_gap == pytest.approx(math.log(5 / 3))
    i2 = _row(built["institution"], "entity_id", "I002")
    assert i2.inst_cycle_share_365d == pytest.approx(1.0)  # C0005, C0006
    assert np.isnan(i2.inst_report_amount_gap)


def test_capacity_conduct_profile(built: dict[str, pd.DataFrame]) -> None:
    i = _row(built["institution"], "entity_id", "I001")
    capacity = (i.inst_staff, i.inst_trained_share, i.inst_clients_served)
    assert capacity == pytest.approx((10, 0.6, 20))
    assert i.inst_trained_gap == pytest.approx(-0.1)
    assert i.inst_revenue_per_staff == pytest.approx(100_000)
    assert i.inst_complaints_per_client == pytest.approx(0.1)
    assert i.inst_report_age_days == _days("2020-03-15")
    # D2 is confirmed after as_of
    assert (i.inst_conduct_all, i.inst_conduct_365d, i.inst_conduct_serious_all) == (1, 1, 1)
    assert i.inst_days_since_conduct_all == _days("2019-08-01")
    assert (i.inst_tenure_days, i.inst_national, i.inst_warned) == (_days("2010-01-01"), 1, 0)
    i2 = _row(built["institution"], "entity_id", "I002")
    assert i2.inst_warned == 0  # warned on 2020-07-15, after as_of
    assert np.isnan(i2.inst_staff) and np.isnan(i2.inst_days_since_conduct_all)


def test_broker(built: dict[str, pd.DataFrame]) -> None:
    b = _row(built["broker"], "entity_id", "B001")
    assert (b.brk_contracts_30d, b.brk_contracts_365d, b.brk_contracts_all) == (2, 3, 3)
    assert b.brk_spike_ratio_30d == pytest.approx(3 / (1 * 30 / 335 + 1))
    assert (b.brk_institutions_served_365d, b.brk_institutions_served_all) == (1, 1)
    assert (b.brk_cert_rank, b.brk_training_hours, b.brk_affiliated) == (2, 100, 1)
    b2 = _row(built["broker"], "entity_id", "B002")
    assert (b2.brk_contracts_30d, b2.brk_institutions_served_all, b2.brk_affiliated) == (1, 0, 0)
    assert b2.brk_conduct_all == 1 and b2.brk_tenure_days == _days("2020-06-01")


def test_contract_history_at_registration(built: dict[str, pd.DataFrame]) -> None:
    c = _row(built["contract"], "contract_id", "C0002")
    assert c.ctr_seller_prior == 2  # C0007 and C0001 (same day, smaller id)
    assert c.ctr_seller_days_since == 0
    assert c.ctr_seller_bad_share == pytest.approx(0.5)  # C0007 found false on 2020-03-01
    assert c.ctr_seller_conduct == 1  # D3; D4 is confirmed on the registration day itself
    assert (c.ctr_buyer_prior, c.ctr_pair_prior, c.ctr_pair_same_day,
            c.ctr_reverse_pair_prior) == (1, 1, 1, 1)
    assert c.ctr_institution_conduct == 1
    assert (c.ctr_broker_conduct, c.ctr_broker_recent) == (0, 1)
    assert c.ctr_broker_spike == pytest.approx(2 / (1 * 30 / 335 + 1))
    # the only earlier development contract is C0001: mean ln(1.01M), std floored at 0.1
    assert c.ctr_peer_z == pytest.approx((math.log(500_000) - math.log(1_010_000)) / 0.1)
    assert (c.ctr_round_amount, c.ctr_just_above_threshold) == (1, 0)
    assert c.ctr_tech_share == pytest.approx(0.9) and c.ctr_signing_lag_days == 3
    first = _row(built["contract"], "contract_id", "C0001")
    assert first.ctr_just_above_threshold == 1 and np.isnan(first.ctr_peer_z)
    assert first.ctr_seller_days_since == _days("2019-12-15")
    lone = _row(built["contract"], "contract_id", "C0010")
    assert lone.ctr_seller_prior == 0 and np.isnan(lone.ctr_seller_bad_share)
    assert np.isnan(lone.ctr_institution_conduct) and lone.ctr_broker_conduct == 0
    assert (lone.ctr_broker_recent, lone.ctr_broker_spike) == (0, 1)


def test_panel_months_tile_the_contract_history() -> None:
    months = panel_months(["2020-06-30", "2020-04-30", "2020-05-15"])
    assert [(m.as_of, m.contracts_from) for m in months] == [
        (pd.Timestamp("2020-04-30"), pd.Timestamp("2020-04-01")),
        (pd.Timestamp("2020-05-15"), pd.Timestamp("2020-05-01")),
        (pd.Timestamp("2020-06-30"), pd.Timestamp("2020-05-16")),
    ]


def test_the_panel_is_its_months_built_one_by_one_and_stacked() -> None:
    """What lets a distributed build give each worker one month: the single-pass panel and
    the months built apart are the same tables, value for value."""
    h = prepare(hand_market())
    dates = month_ends("2020-03", "2020-07")
    panel = build_panel(h, dates)
    months = stack(build_month(h, m) for m in panel_months(dates))
    for kind in KINDS:
        pd.testing.assert_frame_equal(months[kind], panel[kind], check_exact=True)
    assert panel["contract"]["contract_id"].tolist() == [
        "C0004", "C0005", "C0006", "C0003", "C0010", "C0001", "C0002", "C0009"]
