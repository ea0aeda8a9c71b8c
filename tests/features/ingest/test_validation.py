"""Checks derived from the standard: the vectorised masks flag the right rows, and Great
Expectations, running the same suite, agrees with them row by row (or the run stops)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from features.ingest.validation import (
    GXValidator,
    ValidationDisagreement,
    checks,
    run_masks,
    verification_sample,
)
from features.standard.schema import conform
from features.standard.tables import CONTRACTS

TODAY = date(2026, 11, 23)
KNOWN = {
    "institutions.institution_id": pd.Index(["I000001"]),
    "brokers.broker_id": pd.Index(["B0000001"]),
}


def good_contract(i: int) -> dict:
    return {
        "contract_id": f"C{i:08d}", "signed_date": "2020-01-02", "registered_date": "2020-01-05",
        "contract_type": "development", "seller_id": "E0000001", "seller_kind": "enterprise",
        "seller_region": "110000", "buyer_id": "E0000002", "buyer_kind": "university",
        "buyer_region": "310000", "institution_id": "I000001", "broker_id": None,
        "amount_yuan": 1e6, "tech_amount_yuan": 8e5, "tech_field": "new_energy",
        "office_id": "OF11000001", "status": "registered", "status_date": None,
        "status_basis": None,
    }


# row -> (changes, the check id that must flag it)
BAD = {
    1: ({"amount_yuan": -5.0}, "range:amount_yuan"),
    2: ({"amount_yuan": 1e15, "tech_amount_yuan": 1e14}, "range:amount_yuan"),
    3: ({"contract_type": "bribery"}, "in set:contract_type"),
    4: ({"signed_date": "2020-02-01"}, "rule signed_before_registered:signed_date"),
    5: ({"registered_date": "2031-01-01"}, "not in future:registered_date"),
    6: ({"institution_id": "I999999"}, "foreign key:institution_id"),
    7: ({"broker_id": "B9999999"}, "foreign key:broker_id"),
    8: ({"tech_amount_yuan": 2e6}, "rule tech_within_amount:tech_amount_yuan"),
    9: ({"seller_id": "not an id"}, "pattern:seller_id"),
    10: ({"contract_id": "C00000000"}, "unique:contract_id"),
    11: ({"office_id": None}, "not null:office_id"),
}


def frame(n: int = 15) -> pd.DataFrame:
    rows = [good_contract(i) for i in range(n)]
    for i, (changes, _) in BAD.items():
        rows[i].update(changes)
    df = pd.DataFrame(rows)
    df["broker_id"] = df["broker_id"].astype("str")
    df["office_id"] = df["office_id"].astype("str")
    df["status_date"] = pd.to_datetime(df["status_date"])
    return conform(CONTRACTS, df.assign(office_id=df["office_id"].where(df["office_id"].notna())))


def test_checks_follow_the_declarations() -> None:
    ids = {c.id for c in checks(CONTRACTS, TODAY, KNOWN)}
    assert {"not null:contract_id", "unique:contract_id", "in set:tech_field", "range:amount_yuan",
            "pattern:office_id", "not in future:status_date", "foreign key:broker_id",
            "rule registered_before_status:registered_date"} <= ids
    assert "foreign key:institution_id" not in {c.id for c in checks(CONTRACTS, TODAY)}


def test_masks_flag_exactly_the_bad_rows() -> None:
    df = frame()
    masks = run_masks(df, checks(CONTRACTS, TODAY, KNOWN))
    flagged = {cid: set(np.flatnonzero(m).tolist()) for cid, m in masks.items() if m.any()}
    expected: dict[str, set[int]] = {}
    for row, (_, cid) in BAD.items():
        expected.setdefault(cid, set()).add(row)
    expected["unique:contract_id"] = {0, 10}  # both copies of a duplicated id
    expected["range:tech_amount_yuan"] = {2}
    expected["rule tech_within_amount:tech_amount_yuan"].add(1)  # -5 yuan is below 8e5 too
    assert flagged == expected


def test_threaded_masks_equal_serial_ones() -> None:
    small = frame()
    df = small.iloc[np.tile(np.arange(len(small)), 1_000)].reset_index(drop=True)
    cks = checks(CONTRACTS, TODAY, KNOWN)
    threaded, serial = run_masks(df, cks, min_rows=0), run_masks(df, cks, threads=1)
    assert threaded.keys() == serial.keys()
    for cid in serial:
        np.testing.assert_array_equal(threaded[cid], serial[cid], err_msg=cid)
    assert threaded["unique:contract_id"].all()  # every id now occurs 1,000 times


def sample(df: pd.DataFrame, cks: list, masks: dict):
    return verification_sample(CONTRACTS, df, cks, masks, np.random.default_rng(0),
                               full_rows=1_000, sample_rows=3)


def test_the_sample_carries_only_the_keys_that_occur() -> None:
    df = frame()
    df.loc[12, "broker_id"] = "B0000042"  # known; row 7's B9999999 is not
    known = {**KNOWN, "brokers.broker_id": pd.Index([f"B{i:07d}" for i in range(100_000)])}
    cks = checks(CONTRACTS, TODAY, known)
    s = sample(df, cks, run_masks(df, cks))
    fk = {c.id: c.params["value_set"] for c in s.checks if c.label == "foreign key"}
    assert fk == {"foreign key:broker_id": ["B0000042"], "foreign key:institution_id": ["I000001"]}
    assert s.masks["foreign key:broker_id"].tolist() == [i == 7 for i in range(len(df))]


@pytest.fixture(scope="module")
def gx_validator() -> GXValidator:
    return GXValidator()


def test_great_expectations_agrees_with_the_masks(gx_validator: GXValidator) -> None:
    df = frame()
    cks = checks(CONTRACTS, TODAY, KNOWN)
    report = gx_validator.validate(sample(df, cks, run_masks(df, cks)))
    assert report["rows_checked_by_gx"] == len(df) and not report["success"]
    by_check = {x["check"]: x for x in report["expectations"]}
    assert by_check["range:amount_yuan"]["unexpected_by_gx"] == 2
    assert by_check["unique:contract_id"]["unexpected_by_gx"] == 2
    assert by_check["in set:tech_field"]["success"]


def test_large_files_verify_rejected_rows_plus_a_sample(gx_validator: GXValidator) -> None:
    df = pd.concat(
        [frame()]
        + [
            conform(
                CONTRACTS,
                pd.DataFrame([good_contract(100 + i) for i in range(2000)]).assign(
                    broker_id=None, status_date=pd.NaT
                ),
            )
        ],
        ignore_index=True,
    )
    cks = checks(CONTRACTS, TODAY, KNOWN)
    report = gx_validator.validate(sample(df, cks, run_masks(df, cks)))
    assert report["rows_checked_by_gx"] == 12 + 3  # 12 rejected rows + the sample


def test_when_most_rows_are_rejected_gx_checks_a_sample_but_every_duplicate(
        gx_validator: GXValidator) -> None:
    df = conform(CONTRACTS, pd.DataFrame([good_contract(i) for i in range(3_000)])
                 .assign(broker_id=None, status_date=pd.NaT, institution_id="I999999"))  # dangling
    df.loc[[10, 2_500], "contract_id"] = "C99999999"  # one duplicated id among 3,000 rejected rows
    cks = checks(CONTRACTS, TODAY, KNOWN)
    masks = run_masks(df, cks)
    assert masks["foreign key:institution_id"].all()
    s = sample(df, cks, masks)  # at most 1,000 rejected rows, plus both copies of the duplicate
    assert len(s.frame) == 1_002 and {10, 2_500} <= set(s.rows.tolist())
    assert s.unexpected_in_file["foreign key:institution_id"] == 3_000
    report = gx_validator.validate(s)  # GX sees both copies, so it agrees: no false refusal
    by_check = {x["check"]: x for x in report["expectations"]}
    assert by_check["unique:contract_id"]["unexpected_by_gx"] == 2
    assert by_check["foreign key:institution_id"]["unexpected_by_gx"] == 1_002


def test_a_wrong_mask_is_caught_by_great_expectations(gx_validator: GXValidator) -> None:
    df = frame()
    cks = checks(CONTRACTS, TODAY, KNOWN)
    masks = run_masks(df, cks)
    masks["in set:contract_type"][3] = False  # pretend the mask missed the unknown code
    with pytest.raises(ValidationDisagreement, match=r"in set:contract_type.*\[3\]"):
        gx_validator.validate(sample(df, cks, masks))
