"""Market-network flags: same-day splits, reciprocal pairs and 3-rings, with the hub cap."""

from __future__ import annotations

import numpy as np

from features.point_in_time.catalogue import CYCLE_MAX_DEGREE
from features.point_in_time.network import cycle_flags, reciprocal_flags, split_flags


def _a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


EMPTY = _a()


def test_split_needs_two_contracts_of_one_pair_on_one_day() -> None:
    seller = _a(0, 0, 0, 1, 0, 2)
    buyer = _a(1, 1, 1, 0, 2, 1)
    day = _a(5, 5, 6, 5, 5, 5)
    # rows 0, 1: 0->1 on day 5; row 2 is the same pair a day later, row 3 the reverse pair
    assert split_flags(seller, buyer, day).tolist() == [True, True, False, False, False, False]
    assert split_flags(_a(3, 3, 3), _a(4, 4, 4), _a(9, 9, 9)).tolist() == [True] * 3
    assert split_flags(EMPTY, EMPTY, EMPTY).tolist() == []


def test_reciprocal_flags_both_directions_but_not_self_dealing() -> None:
    seller = _a(0, 1, 0, 2, 5, 3)
    buyer = _a(1, 0, 2, 3, 5, 4)
    # 0<->1 goes both ways; 0->2, 2->3, 3->4 never come back; 5->5 sells to itself
    assert reciprocal_flags(seller, buyer).tolist() == [True, True, False, False, False, False]
    # a repeated contract on a reciprocal pair is flagged as often as it occurs
    assert reciprocal_flags(_a(7, 7, 8), _a(8, 8, 7)).tolist() == [True, True, True]
    assert reciprocal_flags(EMPTY, EMPTY).tolist() == []


def test_a_three_ring_is_flagged_and_a_chain_is_not() -> None:
    # ring 0->1->2->0 (edge 0->1 twice), chain 3->4->5, a 2-cycle 6<->7, a 4-ring 8->9->10->11->8
    seller = _a(0, 1, 2, 0, 3, 4, 6, 7, 8, 9, 10, 11)
    buyer = _a(1, 2, 0, 1, 4, 5, 7, 6, 9, 10, 11, 8)
    flags = cycle_flags(seller, buyer)
    assert flags.tolist() == [True] * 4 + [False] * 8


def test_ring_with_a_tail_keeps_only_the_ring_edges() -> None:
    # 3->0 feeds the ring, 2->4 leaves it, and the reverse of 0->1 is not a 3-ring edge
    seller = _a(3, 0, 1, 2, 2, 1)
    buyer = _a(0, 1, 2, 0, 4, 0)
    assert cycle_flags(seller, buyer).tolist() == [False, True, True, True, False, False]


def test_opposite_direction_ring_is_its_own_ring() -> None:
    seller = _a(0, 1, 2, 0, 2, 1)
    buyer = _a(1, 2, 0, 2, 1, 0)
    assert cycle_flags(seller, buyer).tolist() == [True] * 6


def test_no_contracts_and_self_loops_give_no_cycle() -> None:
    assert cycle_flags(EMPTY, EMPTY).tolist() == []
    assert cycle_flags(_a(5, 5), _a(5, 5)).tolist() == [False, False]


def _ring_with_hub(extra: int) -> tuple[np.ndarray, np.ndarray]:
    """Ring 0->1->2->0 where party 0 also sells to ``extra`` distinct other buyers."""
    seller = np.r_[_a(0, 1, 2), np.zeros(extra, dtype=np.int64)]
    buyer = np.r_[_a(1, 2, 0), np.arange(10, 10 + extra, dtype=np.int64)]
    return seller, buyer


def test_parties_up_to_the_degree_cap_take_part() -> None:
    # party 0 trades with 1, 2 and the extras: exactly CYCLE_MAX_DEGREE counterparties
    seller, buyer = _ring_with_hub(CYCLE_MAX_DEGREE - 2)
    flags = cycle_flags(seller, buyer)
    assert flags[:3].tolist() == [True, True, True]
    assert not flags[3:].any()


def test_a_hub_above_the_degree_cap_is_left_out_of_cycle_search() -> None:
    seller, buyer = _ring_with_hub(CYCLE_MAX_DEGREE - 1)
    assert not cycle_flags(seller, buyer).any()
    # a ring elsewhere in the same market is still found
    seller = np.r_[seller, _a(100, 101, 102)]
    buyer = np.r_[buyer, _a(101, 102, 100)]
    flags = cycle_flags(seller, buyer)
    assert flags[-3:].tolist() == [True, True, True]
    assert not flags[:-3].any()


def test_repeated_contracts_do_not_raise_a_party_degree() -> None:
    # 200 contracts on the edge 0->1 are one edge: the ring stays under the cap
    seller = np.r_[_a(0, 1, 2), np.zeros(200, dtype=np.int64)]
    buyer = np.r_[_a(1, 2, 0), np.ones(200, dtype=np.int64)]
    assert cycle_flags(seller, buyer).all()


def test_degree_cap_counts_distinct_counterparties_as_documented() -> None:
    # party 0: ring partners 1 and 2 (1 also sells back to 0) plus 48 buyers = 50 counterparties
    seller = np.r_[_a(0, 1, 2, 1), np.zeros(CYCLE_MAX_DEGREE - 2, dtype=np.int64)]
    buyer = np.r_[_a(1, 2, 0, 0), np.arange(10, 8 + CYCLE_MAX_DEGREE, dtype=np.int64)]
    assert cycle_flags(seller, buyer)[:3].tolist() == [True, True, True]
