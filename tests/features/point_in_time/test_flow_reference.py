"""The compiled engine against a brute-force enumeration on a few hundred random small graphs.

The reference enumerates every time-respecting path in pure Python, so it is exact by
construction; graphs have fewer parties than the search fanout, so the hub cap never applies
and the engine must agree exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from features.point_in_time.catalogue import (
    CYCLE_AMOUNT_BAND,
    FAN_SHORT_DAYS,
    FLOW_WINDOW_DAYS,
    RELAY_BAND,
    RELAY_DAYS,
    SEARCH_FANOUT,
)
from features.point_in_time.contract_graph import FlowGraph

Contract = tuple[int, int, int, float]  # seller, buyer, day, amount


def _band(x: float, a: float) -> bool:
    return a / CYCLE_AMOUNT_BAND <= x <= a * CYCLE_AMOUNT_BAND


def _near(x: float, a: float) -> bool:
    return abs(x / a - 1) <= RELAY_BAND


def reference(earlier: list[Contract], s: int, b: int, day: int, a: float) -> dict[str, int]:
    """Every pattern of s -> b on ``day`` by enumeration over the earlier contracts."""
    since = day - FLOW_WINDOW_DAYS
    flows = [c for c in earlier if c[2] > since]
    legs = [c for c in flows if _band(c[3], a)]

    def shortest() -> int:  # earlier legs of the shortest time-respecting path b -> s
        best = 0
        stack: list[tuple[int, int, tuple[int, ...]]] = [(b, since + 1, (b,))]
        while stack:
            x, t, path = stack.pop()
            for cs, cb, cd, _ in legs:
                if cs != x or cd < t:
                    continue
                if cb == s:
                    if best == 0 or len(path) < best:
                        best = len(path)
                elif cb not in path and len(path) < 5:
                    stack.append((cb, cd, (*path, cb)))
        return best

    cycle = shortest() if s != b else 0
    last = {(c[0], c[1]): c for c in earlier}  # each pair's latest contract
    pairs = {k for k, c in last.items() if c[2] > since and _band(c[3], a)}
    sources = {c[0] for c in legs if c[1] == s and c[0] not in (s, b)}
    scatter = max((len({m for (x, m) in pairs if x == u and (m, b) in pairs} - {s, b, u})
                   for u in sources), default=0)

    def chain(k: int, depth: int) -> int:  # longest relay chain ending with earlier[k]
        cs, _, cd, ca = earlier[k]
        return 1 + max((chain(j, depth + 1) for j in range(k)
                        if earlier[j][1] == cs and earlier[j][0] != earlier[k][1]
                        and earlier[j][2] > cd - RELAY_DAYS and _near(earlier[j][3], ca)),
                       default=0) if depth < 6 else 1

    relay = [k for k, c in enumerate(earlier)
             if c[1] == s and c[0] != b and c[2] > day - RELAY_DAYS and _near(c[3], a)]
    near_s = {c[1] if c[0] == s else c[0] for c in flows if s in c[:2]} - {s, b}
    near_b = {c[1] if c[0] == b else c[0] for c in flows if b in c[:2]} - {s, b}
    return {
        "cycle_len": cycle + 1 if cycle else 0,
        "relay_in": len({earlier[k][0] for k in relay}),
        "relay_chain": min(max((chain(k, 1) for k in relay), default=0), 5),
        "seller_fan_out_short": len({c[1] for c in flows
                                     if c[0] == s and c[2] > day - FAN_SHORT_DAYS}),
        "seller_fan_out": len({c[1] for c in flows if c[0] == s}),
        "buyer_fan_in_short": len({c[0] for c in flows
                                   if c[1] == b and c[2] > day - FAN_SHORT_DAYS}),
        "buyer_fan_in": len({c[0] for c in flows if c[1] == b}),
        "scatter_gather": scatter,
        "gather_scatter": min(len({c[0] for c in flows if c[1] == s} - {b}),
                              len({c[1] for c in flows if c[0] == s} | {b})),
        "common": len(near_s & near_b),
    }


def _graph(seed: int) -> list[Contract]:
    rng = np.random.default_rng(seed)
    parties = int(rng.integers(3, 10))
    n = int(rng.integers(5, 40))
    out: list[Contract] = []
    for day in np.sort(rng.integers(0, 500, n)).tolist():
        s, b = rng.choice(parties, 2, replace=False).tolist()
        spread = 0.05 if rng.random() < 0.5 else 0.8  # near-equal amounts, or a wide band
        out.append((s, b, day, round(float(1e6 * np.exp(rng.normal(0, spread))), 2)))
    return out


@pytest.mark.parametrize("block", range(6))
def test_engine_equals_enumeration_on_random_graphs(block: int) -> None:
    assert SEARCH_FANOUT > 10  # more than any party's counterparties here: no hub cap
    found = 0
    for seed in range(block * 50, (block + 1) * 50):
        contracts = _graph(seed)
        g = FlowGraph()
        for k, (s, b, day, a) in enumerate(contracts):
            got = g.step(s, b, day, a, False, -1, -1, -1)
            want = reference(contracts[:k], s, b, day, a)
            assert {name: getattr(got, name) for name in want} == want, (seed, k)
            found += got.cycle_len > 0
    assert found > 20  # the graphs do have cycles to get right
