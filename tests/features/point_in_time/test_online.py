"""The real-time path equals the batch path, contract by contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.point_in_time.catalogue import names_of
from features.point_in_time.contract import contract_features
from features.point_in_time.history import day_of, prepare
from features.point_in_time.online import OnlineState
from features.synthetic.market import Market

NAMES = names_of("contract")


@pytest.mark.parametrize("reuse", [False, True], ids=["register", "register-checked"])
def test_online_state_equals_batch_over_two_months(small_market: Market, reuse: bool) -> None:
    """``reuse``: registration takes the features just checked (the service's path) instead
    of searching the network again; both must leave the same state."""
    tables = small_market.tables
    as_of, end = pd.Timestamp("2019-06-30"), pd.Timestamp("2019-08-31")
    h = prepare(tables)
    state = OnlineState.build(h, as_of)
    # status changes and conduct records of the period reach the state as they happen
    c = tables["contracts"].assign(status_date=pd.to_datetime(tables["contracts"]["status_date"]),
                                   registered_date=pd.to_datetime(tables["contracts"]["registered_date"]))
    changed = c[(c["status_date"] > as_of) & (c["status_date"] <= end)]
    for r in changed.itertuples():
        state.observe_status(r.seller_id, r.status, r.status_date)
    cr = tables["conduct_records"].assign(
        confirmed_date=pd.to_datetime(tables["conduct_records"]["confirmed_date"]))
    for r in cr[(cr["confirmed_date"] > as_of) & (cr["confirmed_date"] <= end)].itertuples():
        state.observe_conduct(r.subject_kind, r.subject_id, r.confirmed_date)
    assert len(changed) > 0

    reg = h.contracts["reg"].to_numpy()
    rows = np.arange(np.searchsorted(reg, day_of(as_of), "right"),
                     np.searchsorted(reg, day_of(end), "right"))
    batch = contract_features(h, rows)
    incoming = c.set_index("contract_id").loc[batch["contract_id"]].reset_index()
    online = []
    for contract in incoming.to_dict("records"):
        features = state.features(contract)
        online.append(np.array([features[n] for n in NAMES]))
        state.register(contract, features if reuse else None)
    online_arr, batch_arr = np.vstack(online), batch[NAMES].to_numpy()
    assert len(rows) > 1000
    np.testing.assert_allclose(online_arr, batch_arr, rtol=1e-9, atol=1e-12, equal_nan=True)
    # the period exercises every history feature, not only zeros
    for name in ("ctr_pair_prior", "ctr_reverse_pair_prior", "ctr_seller_bad_share",
                 "ctr_broker_recent", "ctr_institution_conduct", "ctr_cycle_len",
                 "ctr_relay_chain", "ctr_seller_fan_out_30d", "ctr_buyer_fan_in_365d",
                 "ctr_scatter_gather", "ctr_gather_scatter", "ctr_party_cycle_share"):
        assert np.nanmax(batch[name]) > 0, name


def test_unknown_parties_start_from_nothing(small_market: Market) -> None:
    state = OnlineState.build(small_market.tables, "2020-12-31")
    contract = {
        "contract_id": "CNEW0001", "registered_date": "2021-01-04", "signed_date": "2021-01-02",
        "contract_type": "transfer", "seller_id": "ENEW0001", "buyer_id": "ENEW0002",
        "seller_region": "110000", "buyer_region": "310000", "seller_kind": "enterprise",
        "buyer_kind": "enterprise", "office_id": "OFF0001", "institution_id": None,
        "broker_id": None, "amount_yuan": 3_050_000.0, "tech_amount_yuan": 3_000_000.0,
        "tech_field": "new_energy",
    }
    f = state.features(contract)
    assert (f["ctr_seller_prior"], f["ctr_buyer_prior"], f["ctr_pair_prior"]) == (0, 0, 0)
    assert f["ctr_just_above_threshold"] == 1 and f["ctr_round_amount"] == 1
    assert np.isnan(f["ctr_seller_days_since"]) and np.isnan(f["ctr_broker_recent"])
    assert (f["ctr_seller_first"], f["ctr_buyer_first"], f["ctr_seller_age_days"]) == (1, 1, 0)
    assert f["ctr_cycle_len"] == 0 and np.isnan(f["ctr_party_cycle_share"])
    state.register(contract)
    again = state.features({**contract, "contract_id": "CNEW0002"})
    assert (
        again["ctr_seller_prior"], again["ctr_pair_prior"], again["ctr_pair_same_day"]
    ) == (1, 1, 1)
    # ties: the pair traded, and the buyer used this office before
    assert (again["ctr_seller_first"], again["ctr_related_ties"]) == (0, 2)
