"""The contract flow network, kept incrementally: cycles, relays and related-party ties.

A contract is checked against the contracts registered before it, exactly as the real-time
check sees the register, so batch and online share one object: the batch pass replays the
register in ``(registered_date, contract_id)`` order calling :meth:`FlowGraph.step` on each
contract, and the online state keeps the same graph and calls :meth:`FlowGraph.check` on a
new contract, then :meth:`FlowGraph.step` once it is registered. Identical operations in the
same order give identical values, which a test proves.

The graph holds, per ordered pair of parties, the latest flow (day, amount). Cycle search asks
whether the buyer reaches the seller through earlier flows of the trailing window in 1-4 legs
(a 2- to 5-party cycle closed by this contract), meeting in the middle: two legs forward from
the buyer, two back from the seller. Only legs within a factor ``CYCLE_AMOUNT_BAND`` of the
contract's amount count: circular trading passes similar sums along, and a market where most
firms both buy and sell is full of cycles of unrelated sizes that mean nothing.

Hubs. A university may have thousands of counterparties; expanding it in full would make one
check cost millions of steps. A party with more than ``SEARCH_FANOUT`` counterparties in the
window is followed through the ``SEARCH_FANOUT`` whose latest flow is closest in amount to the
contract being checked (flows are kept in amount order, see :mod:`features.point_in_time.edges`,
so this costs a bisection and a short walk, not a scan of the hub). Rings pass amounts on
nearly intact, so the legs of a ring through a hub are among those kept, while a hub's many
unrelated flows of other sizes are not walked. A search therefore visits at most
``2 * (F + F * F)`` parties (F = fanout) whatever the degrees. Hubs are never dropped.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import (
    CYCLE_AMOUNT_BAND,
    CYCLE_MAX_LEN,
    FLOW_WINDOW_DAYS,
    RELAY_BAND,
    RELAY_DAYS,
    SEARCH_FANOUT,
)
from features.point_in_time.edges import Edges, Flow
from features.point_in_time.history import History

Half = tuple[float, float, int, tuple[int, ...]]  # low, high, first day, parties from the start

if CYCLE_MAX_LEN != 5:  # two legs forward and two back: the search below is written for 5
    raise RuntimeError("FlowGraph._cycle searches cycles of up to 5 parties")


@dataclass(frozen=True)
class FlowFacts:
    """Network features of one contract at its registration."""

    cycle_len: int  # parties on the shortest cycle it closes, 0 when none
    cycle_ratio: float  # smallest / largest amount on that cycle, NaN when none
    cycle_span: float  # days from the cycle's earliest leg to this contract, NaN when none
    relay_in: int
    common: int
    ties: int
    party_cycle_share: float  # NaN when neither party has a contract in the window


@dataclass(frozen=True)
class Path:
    """A cycle's earlier flows: inner parties, smallest and largest amount, first day."""

    nodes: tuple[int, ...]
    low: float
    high: float
    first: int



class _Volume:
    """A party's contracts in the window, in integer cents so sums are exact in any order."""

    __slots__ = ("items", "total", "cycled")

    def __init__(self) -> None:
        self.items: deque[tuple[int, int, bool]] = deque()
        self.total = 0
        self.cycled = 0

    def expire(self, since: int) -> None:
        while self.items and self.items[0][0] <= since:
            _, cents, closed = self.items.popleft()
            self.total -= cents
            self.cycled -= cents if closed else 0


class FlowGraph:
    """Latest flow per ordered pair, plus who used which broker, institution and office."""

    def __init__(self, window: int = FLOW_WINDOW_DAYS, fanout: int = SEARCH_FANOUT) -> None:
        self.window = window
        self.fanout = fanout
        self.out: dict[int, Edges] = {}
        self.inn: dict[int, Edges] = {}
        self.used: dict[tuple[str, int, int], int] = {}  # (kind, party, code) -> last day
        self.volume: dict[int, _Volume] = {}

    # --- looking -------------------------------------------------------------------------

    def _follow(self, edges: Edges | None, since: int, amount: float) -> list[Flow]:
        """The flows a search follows: those of the window within the amount band, and of
        those, when there are more than the fanout, the fanout closest in amount."""
        if not edges:
            return []
        return edges.nearest(amount, amount / CYCLE_AMOUNT_BAND, amount * CYCLE_AMOUNT_BAND,
                             since, self.fanout)

    def _first(self, start: int, graph: dict[int, Edges], since: int, amount: float,
               avoid: tuple[int, int]) -> dict[int, Half]:
        """Parties one leg from ``start`` (forward or backward)."""
        return {q: (a, a, d, (q,)) for q, d, a in self._follow(graph.get(start), since, amount)
                if q not in avoid}

    def _second(self, one: dict[int, Half], graph: dict[int, Edges], since: int, amount: float,
                avoid: tuple[int, int]) -> dict[int, Half]:
        """Parties two legs away, with the most even path to each (plain tuples: this loop
        runs up to fanout squared times per check)."""
        two: dict[int, Half] = {}
        best: dict[int, tuple[float, int]] = {}
        for x in sorted(one):  # ascending, and only a strictly better path replaces: ties
            low1, high1, first1, _ = one[x]  # keep the smallest inner party
            for q, d, a in self._follow(graph.get(x), since, amount):
                if q in avoid or q == x:
                    continue
                low, high = min(low1, a), max(high1, a)
                key = (min(low, amount) / max(high, amount), min(first1, d))
                old = best.get(q)
                if old is None or key > old:
                    best[q] = key
                    two[q] = (low, high, key[1], (x, q))
        return two

    def _edge(self, graph: dict[int, Edges], p: int, q: int, since: int
              ) -> tuple[int, float] | None:
        """The latest flow between p and q in the window, if any."""
        edges = graph.get(p)
        return edges.get(q, since) if edges is not None else None

    def check(self, s: int, b: int, day: int, amount: float, same_region: bool, inst: int,
              broker: int, office: int) -> FlowFacts:
        """Features of a contract s -> b about to be registered on ``day`` (nothing is added).

        A contract without a positive amount (which ingest rejects, but a raw table may hold)
        takes part in no flow: it gets the facts of a party with no history.
        """
        since = day - self.window
        if not amount > 0:
            return FlowFacts(0, math.nan, math.nan, 0, 0, int(same_region), math.nan)
        best: Path | None = None
        length = 0
        back = self._edge(self.out, b, s, since)
        if s != b and back is not None and _in_band(back[1], amount):
            best, length = Path((), back[1], back[1], back[0]), 2
        elif s != b:
            best, length = self._cycle(s, b, since, amount)
        ratio = span = math.nan
        if best is not None:
            ratio = min(best.low, amount) / max(best.high, amount)
            span = float(day - min(best.first, day))
        in_s = self.inn.get(s)
        near = ((1 - RELAY_BAND) * amount * 0.999, (1 + RELAY_BAND) * amount * 1.001)
        relay = 0 if in_s is None else sum(
            1 for q, _, a in in_s.within(*near, day - RELAY_DAYS)
            if q != b and abs(a / amount - 1) <= RELAY_BAND)
        common = self._common(s, b, since)
        pair = back is not None or self._edge(self.out, s, b, since) is not None
        ties = int(same_region) + int(pair) + int(common > 0) + sum(
            self.used.get((kind, b, code), -1) > since
            for kind, code in (("broker", broker), ("institution", inst), ("office", office))
            if code >= 0)
        shares = []
        for p in (s, b):
            v = self.volume.get(p)
            if v is not None:
                v.expire(since)
                if v.total > 0:
                    shares.append(v.cycled / v.total)
        return FlowFacts(length, ratio, span, relay, common, ties,
                         max(shares) if shares else math.nan)

    def _cycle(self, s: int, b: int, since: int, amount: float) -> tuple[Path | None, int]:
        """Shortest cycle of 3-5 parties closed by s -> b, nearly the most even in amount.

        Levels are expanded only as needed: most contracts stop at an empty first level. Each
        half keeps its own most even path to a meeting party, so for 4- and 5-cycles the
        reported ratio can be a little below the best joined one; the cycle is always found.
        """
        avoid = (s, b)
        fwd1 = self._first(b, self.out, since, amount, avoid)
        back1 = self._first(s, self.inn, since, amount, avoid) if fwd1 else {}
        if not back1:
            return None, 0
        found = _meet(((fwd1, back1),), amount)
        if found is not None:
            return found, 3
        fwd2 = self._second(fwd1, self.out, since, amount, avoid)
        back2 = self._second(back1, self.inn, since, amount, avoid)
        for length, pairs in ((4, ((fwd1, back2), (fwd2, back1))), (5, ((fwd2, back2),))):
            found = _meet(pairs, amount)
            if found is not None:
                return found, length
        return None, 0

    def _common(self, s: int, b: int, since: int) -> int:
        """Parties both s and b traded with in the window (either direction).

        Walks the smaller party's flows and looks each counterparty up in the larger's, so a
        hub meeting a small firm costs the firm's degree, not the hub's.
        """
        def size(p: int) -> int:
            return len(self.out.get(p, ())) + len(self.inn.get(p, ()))

        small, large = (s, b) if size(s) <= size(b) else (b, s)
        seen = {q for g in (self.out, self.inn) if small in g for q in g[small].fresh(since)
                if q not in (s, b)}
        return sum(1 for q in seen if self._edge(self.out, large, q, since) is not None
                   or self._edge(self.inn, large, q, since) is not None)

    # --- registering ---------------------------------------------------------------------

    def add(self, s: int, b: int, day: int, amount: float, inst: int, broker: int, office: int,
            closed: bool) -> None:
        """Add a registered contract (``closed``: whether it closed a cycle when checked)."""
        if not amount > 0:
            return
        for graph, p, q in ((self.out, s, b), (self.inn, b, s)):
            edges = graph.get(p)
            if edges is None:
                edges = graph[p] = Edges()
            edges.put(q, day, amount)
            if len(edges) >= 64 and len(edges) & (len(edges) - 1) == 0:
                edges.prune(day - self.window)
        cents = round(amount * 100)
        for p in (s, b):
            v = self.volume.setdefault(p, _Volume())
            v.items.append((day, cents, closed))
            v.total += cents
            v.cycled += cents if closed else 0
            for kind, code in (("broker", broker), ("institution", inst), ("office", office)):
                if code >= 0:
                    self.used[(kind, p, code)] = day

    def step(self, s: int, b: int, day: int, amount: float, same_region: bool, inst: int,
             broker: int, office: int) -> FlowFacts:
        """Check a contract, then add it: one step of the register replay."""
        facts = self.check(s, b, day, amount, same_region, inst, broker, office)
        self.add(s, b, day, amount, inst, broker, office, facts.cycle_len > 0)
        return facts


def _meet(pairs: tuple[tuple[dict[int, Half], dict[int, Half]], ...], amount: float
          ) -> Path | None:
    """The best cycle joining a forward and a backward half at a shared party, if any: the
    most even in amount, then the most recent first leg, then the smallest parties."""
    best: Path | None = None
    best_key = (-1.0, 0)
    for fwd, back in pairs:
        for q in sorted(fwd.keys() & back.keys()):
            f_low, f_high, f_first, f_nodes = fwd[q]
            k_low, k_high, k_first, k_nodes = back[q]
            if set(f_nodes[:-1]) & set(k_nodes[:-1]):
                continue  # not simple; cannot happen once shorter cycles were ruled out
            low, high, first = min(f_low, k_low), max(f_high, k_high), min(f_first, k_first)
            nodes = f_nodes + k_nodes[-2::-1]
            key = (min(low, amount) / max(high, amount), first)
            if best is None or key > best_key or (key == best_key and nodes < best.nodes):
                best, best_key = Path(nodes, low, high, first), key
    return best


def _in_band(a: float, amount: float) -> bool:
    return amount / CYCLE_AMOUNT_BAND <= a <= amount * CYCLE_AMOUNT_BAND


NETWORK_COLUMNS = ("ctr_cycle_len", "ctr_cycle_amount_ratio", "ctr_cycle_span_days",
                   "ctr_relay_in", "ctr_common_counterparties", "ctr_related_ties",
                   "ctr_party_cycle_share")


def as_row(f: FlowFacts) -> tuple[float, ...]:
    """The facts in :data:`NETWORK_COLUMNS` order."""
    return (float(f.cycle_len), f.cycle_ratio, f.cycle_span, float(f.relay_in),
            float(f.common), float(f.ties), f.party_cycle_share)


def replay_start(reg: np.ndarray, day: int, window: int = FLOW_WINDOW_DAYS) -> int:
    """First contract a replay must start from for exact features from ``day`` on.

    A feature reads flows of one window back, and the share of a party's volume on cycles
    reads cycle flags that themselves looked one window further: two windows suffice.
    """
    return int(np.searchsorted(reg, day - 2 * window, side="right"))


def replay(graph: FlowGraph, c: pd.DataFrame, lo: int, hi: int,
           want: np.ndarray | None = None) -> np.ndarray:
    """Step contracts ``lo:hi`` of the prepared table through ``graph``.

    Returns the network features of the positions in ``want`` (sorted, within ``lo:hi``), one
    row each in :data:`NETWORK_COLUMNS` order.
    """
    cols = [c[k].to_numpy()[lo:hi].tolist()
            for k in ("seller", "buyer", "reg", "amount", "inst", "broker", "office")]
    sr, br = c["seller_region"].to_numpy()[lo:hi], c["buyer_region"].to_numpy()[lo:hi]
    same = ((sr == br) & (sr >= 0)).tolist()  # an unknown province is no tie
    slot = np.full(hi - lo, -1, dtype=np.int64)
    n_want = 0 if want is None else len(want)
    if want is not None:
        slot[want - lo] = np.arange(n_want)
    slots = slot.tolist()
    out = np.full((n_want, len(NETWORK_COLUMNS)), np.nan)
    for i, (s, b, d, a, inst, brk, off) in enumerate(zip(*cols, strict=True)):
        facts = graph.step(s, b, d, a, same[i], inst, brk, off)
        if slots[i] >= 0:
            out[slots[i]] = as_row(facts)
    return out


def network_features(h: History, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Network features of contracts at sorted positions ``rows``, by replaying the register."""
    c = h.contracts
    if len(rows) == 0:
        return {n: np.empty(0) for n in NETWORK_COLUMNS}
    reg = c["reg"].to_numpy()
    lo = min(replay_start(reg, int(reg[rows[0]])), int(rows[0]))
    got = replay(FlowGraph(), c, lo, int(rows[-1]) + 1, rows)
    return {n: got[:, i] for i, n in enumerate(NETWORK_COLUMNS)}
