"""Each flow pattern found exactly on small hand-built graphs, and the state pickles."""

from __future__ import annotations

import pickle

import pytest

from features.point_in_time.catalogue import SEARCH_FANOUT
from features.point_in_time.contract_graph import FlowFacts, FlowGraph

DAY = 18_000


def _step(g: FlowGraph, s: int, b: int, day: int, amount: float = 1e6) -> FlowFacts:
    return g.step(s, b, day, amount, False, -1, -1, -1)


def _ring(parties: int, days: list[int] | None = None) -> FlowGraph:
    """Earlier legs 1 -> 2 -> ... -> parties, ready to be closed by parties -> 1."""
    g = FlowGraph()
    days = days or [DAY + 10 * k for k in range(parties - 1)]
    for k, day in enumerate(days):
        _step(g, k + 1, k + 2, day, 1e6 * 0.95**k)
    return g


@pytest.mark.parametrize("parties", [2, 3, 4, 5, 6])
def test_cycles_of_two_to_six_parties_are_found(parties: int) -> None:
    g = _ring(parties)
    f = g.check(parties, 1, DAY + 100, 1e6, False, -1, -1, -1)
    assert (f.cycle_len, f.cycle_span) == (parties, 100)
    assert f.cycle_ratio == pytest.approx(0.95 ** (parties - 2))


def test_a_seven_party_ring_is_beyond_the_search() -> None:
    assert _ring(7).check(7, 1, DAY + 100, 1e6, False, -1, -1, -1).cycle_len == 0


def test_a_cycle_whose_legs_go_back_in_time_is_not_found() -> None:
    g = _ring(4, [DAY + 20, DAY + 10, DAY + 30])  # 2 -> 3 before 1 -> 2 reached 2
    assert g.check(4, 1, DAY + 100, 1e6, False, -1, -1, -1).cycle_len == 0
    g = _ring(4, [DAY + 10, DAY + 10, DAY + 10])  # same-day legs respect time
    assert g.check(4, 1, DAY + 10, 1e6, False, -1, -1, -1).cycle_len == 4


def test_a_later_leg_makes_a_cycle_time_respecting_and_the_shortest_wins() -> None:
    g = _ring(4, [DAY + 20, DAY + 10, DAY + 30])
    _step(g, 2, 3, DAY + 25)  # now 1 -> 2 (20) -> 3 (25) -> 4 (30)
    assert g.check(4, 1, DAY + 40, 1e6, False, -1, -1, -1).cycle_len == 4
    _step(g, 1, 4, DAY + 35)
    f = g.check(4, 1, DAY + 40, 1e6, False, -1, -1, -1)
    assert (f.cycle_len, f.cycle_span, f.cycle_ratio) == (2, 5, 1.0)


def test_a_leg_out_of_the_amount_band_breaks_the_cycle() -> None:
    g = FlowGraph()
    _step(g, 1, 2, DAY, 1e6)
    _step(g, 2, 3, DAY + 1, 0.49e6)  # below 1e6 / 2
    assert _step(g, 3, 1, DAY + 2, 1e6).cycle_len == 0
    _step(g, 2, 3, DAY + 3, 0.5e6)  # on the band's edge: in
    assert _step(g, 3, 1, DAY + 4, 1e6).cycle_len == 3


def test_the_window_edge() -> None:
    g = _ring(3, [DAY, DAY + 100])
    assert g.check(3, 1, DAY + 364, 1e6, False, -1, -1, -1).cycle_len == 3
    assert g.check(3, 1, DAY + 365, 1e6, False, -1, -1, -1).cycle_len == 0  # first leg left


def test_fan_in_and_fan_out_count_distinct_counterparties() -> None:
    g = FlowGraph()
    flows = [(1, 10, DAY), (1, 11, DAY + 10), (1, 10, DAY + 80), (1, 12, DAY + 90),
             (20, 2, DAY), (21, 2, DAY + 70), (21, 2, DAY + 75)]
    for s, b, day in sorted(flows, key=lambda f: f[2]):  # registered in day order
        _step(g, s, b, day)  # the seller's buyers (10 twice), the buyer's sellers (21 twice)
    f = g.check(1, 2, DAY + 100, 1e6, False, -1, -1, -1)
    assert (f.seller_fan_out_short, f.seller_fan_out) == (2, 3)  # 10 and 12 in 30 days
    assert (f.buyer_fan_in_short, f.buyer_fan_in) == (1, 2)
    assert g.check(1, 2, DAY + 400, 1e6, False, -1, -1, -1).seller_fan_out == 2  # 11 left


def test_scatter_gather_counts_intermediaries_of_one_source() -> None:
    g = FlowGraph()
    src, target, seller = 1, 9, 2
    _step(g, src, seller, DAY)
    for m in (3, 4, 5):
        _step(g, src, m, DAY + 1)
        _step(g, m, target, DAY + 2)
    _step(g, 6, 7, DAY + 2)  # unrelated
    _step(g, 8, target, DAY + 2)  # pays the target but was not paid by the source
    f = g.check(seller, target, DAY + 5, 1e6, False, -1, -1, -1)
    assert f.scatter_gather == 3
    assert g.check(seller, target, DAY + 5, 1e3, False, -1, -1, -1).scatter_gather == 0
    _step(g, src, 5, DAY + 3, 1e3)  # each pair's latest flow counts: 5 is now out of band
    assert g.check(seller, target, DAY + 5, 1e6, False, -1, -1, -1).scatter_gather == 2


def test_gather_scatter_is_sources_against_targets_of_the_seller() -> None:
    g = FlowGraph()
    hub = 1
    for u in (10, 11, 12, 13, 13):
        _step(g, u, hub, DAY)
    _step(g, 2, hub, DAY)  # the buyer sold to the hub too: not a source here
    for v in (20, 21, 20):
        _step(g, hub, v, DAY + 1)
    f = g.check(hub, 2, DAY + 2, 1e6, False, -1, -1, -1)
    assert f.gather_scatter == 3  # min(4 sources, 2 targets + this buyer)
    _step(g, hub, 23, DAY + 3)
    _step(g, hub, 2, DAY + 3)  # the buyer is counted once
    assert g.check(hub, 2, DAY + 4, 1e6, False, -1, -1, -1).gather_scatter == 4


@pytest.mark.parametrize("hops", [0, 1, 2, 5, 7])
def test_relay_chain_length(hops: int) -> None:
    g = FlowGraph()
    for k in range(hops):  # 100 -> 101 -> ... -> 100 + hops, each 1 % more, 30 days apart
        _step(g, 100 + k, 101 + k, DAY + 30 * k, 1e6 * 1.01**k)
    f = g.check(100 + hops, 999, DAY + 30 * hops, 1e6 * 1.01**hops, False, -1, -1, -1)
    assert f.relay_chain == min(hops, 5)
    assert f.relay_in == (1 if hops else 0)


def test_relay_chain_breaks_on_a_slow_hop_or_a_changed_amount() -> None:
    g = FlowGraph()
    _step(g, 1, 2, DAY)
    _step(g, 2, 3, DAY + 90)  # 90 days later: not passed on within RELAY_DAYS
    assert _step(g, 3, 4, DAY + 91).relay_chain == 1
    _step(g, 5, 6, DAY + 100)
    _step(g, 6, 7, DAY + 101, 1.2e6)  # 20 % more: not the same sum
    assert _step(g, 7, 8, DAY + 102, 1.2e6).relay_chain == 1


def test_the_hub_cap_counts_a_repeat_counterparty_once() -> None:
    """A ring 9 -> hub 1 -> 2 -> 3 -> 4 -> 9 that only a forward step out of the hub finds. The
    hub sells to 2 at 1.2 million and to SEARCH_FANOUT - 1 firms at amounts closer to the
    contract; the firm 50 buys from the hub ten times. The cap keeps distinct counterparties:
    50's repeats take one place, so 2 is still followed, until one more firm comes."""
    g = FlowGraph()
    _step(g, 9, 1, DAY)
    for q in range(SEARCH_FANOUT - 1):
        _step(g, 1, 50 + q, DAY + 1, 1e6 + q)
    for _ in range(10):
        _step(g, 1, 50, DAY + 1, 1e6)
    for s, b, day in ((1, 2, DAY + 2), (2, 3, DAY + 3), (3, 4, DAY + 4)):
        _step(g, s, b, day, 1.2e6)
    assert g.check(4, 9, DAY + 5, 1e6, False, -1, -1, -1).cycle_len == 5
    _step(g, 1, 70, DAY + 5, 1e6 - 1)  # one more distinct counterparty, closer than 2
    assert g.check(4, 9, DAY + 5, 1e6, False, -1, -1, -1).cycle_len == 0


def test_the_state_pickles_as_arrays_and_continues_identically() -> None:
    g = _ring(5)
    copy = pickle.loads(pickle.dumps(g))
    assert set(vars(g)) >= set(vars(copy)) and len(copy) == len(g) == 4
    for h in (g, copy):
        _step(h, 7, 8, DAY + 50)
    args = (5, 1, DAY + 60, 1e6, False, -1, -1, -1)
    assert copy.check(*args) == g.check(*args)
    assert copy.check(*args).cycle_len == 5
