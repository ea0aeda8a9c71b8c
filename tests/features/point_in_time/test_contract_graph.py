"""Contract network features on small hand-built registries: cycles, hubs, ties, newcomers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.point_in_time import catalogue
from features.point_in_time.catalogue import SEARCH_FANOUT, names_of
from features.point_in_time.contract import contract_features
from features.point_in_time.contract_graph import FlowGraph
from features.point_in_time.online import OnlineState
from tests.features.point_in_time.test_build import _contract, hand_market

DAY = 18_000  # an arbitrary day number


def _step(g: FlowGraph, s: int, b: int, day: int, amount: float, **codes: int):
    args = {"inst": -1, "broker": -1, "office": -1, **codes}
    return g.step(s, b, day, amount, False, args["inst"], args["broker"], args["office"])


def test_a_three_cycle_is_closed_by_its_third_leg() -> None:
    g = FlowGraph()
    assert _step(g, 1, 2, DAY, 1_000_000).cycle_len == 0
    assert _step(g, 2, 3, DAY + 5, 980_000).cycle_len == 0
    f = _step(g, 3, 1, DAY + 12, 950_000)
    assert (f.cycle_len, f.cycle_span) == (3, 12)
    assert f.cycle_ratio == pytest.approx(0.95)


def test_a_five_cycle_is_found_and_a_shorter_one_wins() -> None:
    g = FlowGraph()
    for k, (s, b) in enumerate([(1, 2), (2, 3), (3, 4), (4, 5)]):
        assert _step(g, s, b, DAY + 30 * k, 1e6 * 0.95**k).cycle_len == 0
    f = _step(g, 5, 1, DAY + 150, 0.8e6)
    assert (f.cycle_len, f.cycle_span) == (5, 150)
    assert f.cycle_ratio == pytest.approx(0.8)
    _step(g, 3, 1, DAY + 151, 1e6)  # a shortcut 3 -> 1 makes 1 -> 2 -> 3 -> 1 a 3-cycle
    assert _step(g, 5, 1, DAY + 152, 0.8e6).cycle_len == 5  # 5 -> 1 still needs five parties
    assert _step(g, 3, 1, DAY + 153, 1e6).cycle_len == 3


def test_two_cycles_are_reciprocal_flows_and_old_flows_leave_the_window() -> None:
    g = FlowGraph(window=365)
    _step(g, 1, 2, DAY, 5e5)
    f = _step(g, 2, 1, DAY + 40, 4.5e5)
    assert (f.cycle_len, f.cycle_span, f.cycle_ratio) == (2, 40, pytest.approx(0.9))
    _step(g, 7, 8, DAY, 5e5)
    _step(g, 8, 9, DAY + 200, 5e5)
    assert _step(g, 9, 7, DAY + 365, 5e5).cycle_len == 0  # 7 -> 8 is 365 days old: gone


def _hub_ring(hub_leg: float) -> FlowGraph:
    """A university hub selling to 500 firms, and a five-party ring 1 -> hub -> 2 -> 3 -> 4 -> 1.

    The ring can only be closed by walking two legs out of the hub's side (1 -> hub -> 2), so
    the search must expand the hub's 500 counterparties, which it samples.
    """
    g = FlowGraph()
    rng = np.random.default_rng(0)
    hub = 1000
    for q in range(500):
        _step(g, hub, 2000 + q, DAY + q % 200, float(rng.lognormal(12, 1.5)))
    _step(g, 1, hub, DAY + 201, 3.3e6)
    _step(g, hub, 2, DAY + 205, hub_leg)
    _step(g, 2, 3, DAY + 206, 3.2e6)
    _step(g, 3, 4, DAY + 207, 3.1e6)
    return g


def test_a_ring_through_a_hub_with_500_counterparties_is_found() -> None:
    f = _hub_ring(3.2e6).check(4, 1, DAY + 210, 3.0e6, False, -1, -1, -1)
    assert (f.cycle_len, f.cycle_span) == (5, 9)
    assert f.cycle_ratio == pytest.approx(3.0 / 3.3)


def test_hub_search_follows_only_the_fanout_closest_in_amount() -> None:
    """The documented limit: a hub leg farther in amount than the fanout's flows is not walked."""
    g = _hub_ring(2.9e6)
    for q in range(SEARCH_FANOUT):
        _step(g, 1000, 5000 + q, DAY + 208, 3.0e6 + q)  # flows closer to 3.0 million than 2.9
    assert g.check(4, 1, DAY + 210, 3.0e6, False, -1, -1, -1).cycle_len == 0
    assert _hub_ring(2.9e6).check(4, 1, DAY + 210, 3.0e6, False, -1, -1, -1).cycle_len == 5


def test_cycles_pass_similar_amounts_along() -> None:
    g = FlowGraph()
    _step(g, 1, 2, DAY, 1e6)
    _step(g, 2, 3, DAY + 1, 1e4)  # a hundred times smaller: not a leg of a 1-million cycle
    assert _step(g, 3, 1, DAY + 2, 1e6).cycle_len == 0
    assert _step(g, 3, 1, DAY + 3, 1e4).cycle_len == 0  # nor of a 10-thousand one
    assert _step(g, 2, 1, DAY + 4, 0.6e6).cycle_len == 2


def test_hub_of_hubs_search_is_bounded_and_exact_where_it_is_not_sampled() -> None:
    """300 parties each with 40+ counterparties between 0 and 10_000: the check returns."""
    g = FlowGraph()
    for a in range(300):
        _step(g, 0, 1 + a, DAY, 1e6 + a)
        for c in range(0, 300, 7):
            _step(g, 1 + a, 10_000 + c, DAY, 1e6 + c)
    f = g.check(10_000, 0, DAY + 1, 1e6, False, -1, -1, -1)
    assert (f.cycle_len, f.cycle_ratio) == (3, pytest.approx(1 / (1 + 1e-6)))
    assert f.relay_in == 300 and f.common == 300  # counted over every counterparty


def test_ties_relays_and_party_share() -> None:
    g = FlowGraph()
    _step(g, 5, 1, DAY, 1e6, inst=3, office=2)  # 1 bought for 1.0m: may relay it
    _step(g, 6, 2, DAY, 1e5, inst=3, office=2)  # the buyer 2 used institution 3 and office 2
    _step(g, 1, 6, DAY + 1, 1e5)  # 1 and 2 share counterparty 6
    f = g.check(1, 2, DAY + 30, 1.05e6, True, 3, -1, 2)
    assert f.relay_in == 1  # 5 sold 1.0m to 1, which now sells 1.05m on
    assert f.common == 1
    assert f.ties == 4  # same province, shared counterparty, institution 3, office 2
    assert f.party_cycle_share == 0.0
    _step(g, 2, 1, DAY + 31, 1e6)
    f = _step(g, 1, 2, DAY + 32, 1e6)
    assert f.cycle_len == 2 and f.ties == 2  # the pair traded; a shared counterparty
    later = g.check(2, 9, DAY + 33, 1e6, False, -1, -1, -1)
    # 2's contracts: 6 -> 2 (0.1m), 2 -> 1 (1m; 2 -> 1 -> 6 -> 2 has a 0.1m leg: no cycle),
    # 1 -> 2 (1m, closing the pair's 2-cycle)
    assert later.party_cycle_share == pytest.approx(1e6 / 2.1e6)


def _registry(contracts: list[dict]) -> dict[str, pd.DataFrame]:
    tables = hand_market()
    tables["contracts"] = pd.DataFrame(contracts)
    return tables


def _ring(prefix: str, parties: list[str], start: str, step_days: int, amount: float
          ) -> list[dict]:
    day = pd.Timestamp(start)
    out = []
    for k, seller in enumerate(parties):
        buyer = parties[(k + 1) % len(parties)]
        reg = (day + pd.Timedelta(days=step_days * k)).strftime("%Y-%m-%d")
        out.append(_contract(f"{prefix}{k:03d}", seller, buyer, reg, amount * 0.97**k))
    return out


@pytest.fixture(scope="module")
def registry() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    honest = [
        _contract(f"CU{i:04d}", "U1", f"F{i % 240:03d}", f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}",
                  float(rng.lognormal(12.5, 1.0)), ctype=("service", "development")[i % 2])
        for i in range(600)
    ]
    # the university also buys services from 30 of its clients: at unrelated amounts in 2020,
    # and at amounts like their purchases but more than a year before them
    honest += [_contract(f"CB{j:04d}", f"F{j:03d}", "U1", "2020-06-15", 3e3 + j) for j in range(30)]
    honest += [_contract(f"CO{j:04d}", f"F{j:03d}", "U1", "2018-12-01", 3e5) for j in range(30)]
    return _registry(honest + _ring("CR", ["R1", "R2", "R3"], "2020-03-01", 7, 1e6)
                     + _ring("CL", ["L1", "L2", "L3", "L4", "L5"], "2020-02-01", 40, 2e6)
                     + [_contract("CN0001", "NEW1", "F001", "2020-11-20", 9e7)])


def test_batch_features_flag_the_rings_the_newcomer_and_not_the_university(
        registry: dict[str, pd.DataFrame]) -> None:
    from features.point_in_time.history import prepare

    h = prepare(registry)
    f = contract_features(h, np.arange(len(h.contracts))).set_index("contract_id")
    assert f.loc["CR002", "ctr_cycle_len"] == 3 and f.loc["CL004", "ctr_cycle_len"] == 5
    assert f.loc[["CR000", "CR001", "CL000", "CL003"], "ctr_cycle_len"].eq(0).all()
    assert f.loc["CL004", "ctr_cycle_span_days"] == 160
    university = f[f.index.str.startswith("CU")]
    assert university["ctr_cycle_len"].eq(0).all()  # no cycle of similar amounts in a year
    assert university["ctr_party_cycle_share"].fillna(0).eq(0).all()
    new = f.loc["CN0001"]
    assert (new["ctr_seller_first"], new["ctr_seller_age_days"]) == (1, 0)
    assert new["ctr_kind_peer_z"] > 3 and new["ctr_own_z"] > 3  # shrunk to peers: no history
    later = university.iloc[-1]
    assert later["ctr_seller_first"] == 0 and later["ctr_seller_age_days"] > 300
    assert abs(later["ctr_own_z"]) < 3  # a veteran is judged against itself


def test_online_state_agrees_with_batch_on_the_rings(registry: dict[str, pd.DataFrame]) -> None:
    from features.point_in_time.history import prepare

    h = prepare(registry)
    batch = contract_features(h, np.arange(len(h.contracts))).set_index("contract_id")
    state = OnlineState.build(registry, "2020-03-01")
    c = registry["contracts"].sort_values(["registered_date", "contract_id"])
    for row in c[c["registered_date"] > "2020-03-01"].to_dict("records"):
        got = state.features(row)
        want = batch.loc[row["contract_id"]]
        for name in names_of("contract"):
            if catalogue.feature(name).family not in ("network", "newcomer"):
                continue  # conduct confirmed after the state's day is not fed here
            value = got[name]
            assert (math.isnan(value) and math.isnan(want[name])) or value == want[name], name
        state.register(row)


def test_a_replay_started_later_gives_the_full_replays_values() -> None:
    """Batch builds start two windows before the first row asked for; pruning drops stale
    flows on the way. Neither may change a value: a hub trading for four years, checked."""
    import types

    from features.point_in_time.contract_graph import NETWORK_COLUMNS, network_features

    rng = np.random.default_rng(1)
    n, parties = 6000, 60
    seller, buyer = rng.integers(0, parties, n), rng.integers(0, parties, n)
    seller[rng.random(n) < 0.3] = 0  # a hub selling 30 % of the contracts
    c = pd.DataFrame({"seller": seller, "buyer": buyer, "reg": np.sort(rng.integers(0, 1400, n)),
                      "amount": np.round(np.exp(rng.normal(12, 0.3, n)), 2),
                      "inst": rng.integers(-1, 5, n), "broker": rng.integers(-1, 5, n),
                      "office": rng.integers(-1, 3, n), "seller_region": rng.integers(0, 3, n),
                      "buyer_region": rng.integers(0, 3, n)})
    h = types.SimpleNamespace(contracts=c)
    full = network_features(h, np.arange(n))
    assert (full["ctr_cycle_len"] > 0).sum() > 100  # the check has cycles to get wrong
    for start in (1500, 3000, 4500):
        part = network_features(h, np.arange(start, n))
        for name in NETWORK_COLUMNS:
            np.testing.assert_array_equal(full[name][start:], part[name], err_msg=name)
