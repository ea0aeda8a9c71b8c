"""The contract flow network, kept incrementally: cycles, relays and related-party ties.

A contract is checked against the contracts registered before it, exactly as the real-time
check sees the registry, so batch and online share one object: the batch pass replays the
registry in ``(registered_date, contract_id)`` order calling :meth:`FlowGraph.step` on each
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
contract being checked (ties: later flow, then smaller party code). Rings pass amounts on
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
from features.point_in_time.history import History

Edges = dict[int, tuple[int, float]]  # counterparty -> (day, amount) of the latest flow
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
    """A chain of earlier flows: its inner parties, smallest and largest amount, first day."""

    nodes: tuple[int, ...]
    low: float
    high: float
    first: int

    def extend(self, node: int, day: int, amount: float) -> Path:
        return Path(self.nodes + (node,), min(self.low, amount), max(self.high, amount),
                    min(self.first, day))


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

    def _follow(self, edges: Edges | None, since: int, amount: float
                ) -> list[tuple[int, int, float]]:
        """The flows a search follows: those of the window within the amount band, and of
        those, when there are more than the fanout, the fanout closest in amount."""
        if not edges:
            return []
        lo, hi = amount / CYCLE_AMOUNT_BAND, amount * CYCLE_AMOUNT_BAND
        items = [(q, d, a) for q, (d, a) in edges.items() if d > since and lo <= a <= hi]
        if len(items) <= self.fanout:
            return items
        la = math.log(amount)
        items.sort(key=lambda t: (abs(math.log(t[2]) - la), -t[1], t[0]))
        return items[: self.fanout]

    def _first(self, start: int, graph: dict[int, Edges], since: int, amount: float,
               avoid: tuple[int, int]) -> dict[int, Path]:
        """Parties one leg from ``start`` (forward or backward)."""
        return {q: Path((q,), a, a, d) for q, d, a in self._follow(graph.get(start), since, amount)
                if q not in avoid}

    def _second(self, one: dict[int, Path], graph: dict[int, Edges], since: int, amount: float,
                avoid: tuple[int, int]) -> dict[int, Path]:
        """Parties two legs away, with the best path to each."""
        two: dict[int, Path] = {}
        for x in sorted(one):
            path = one[x]
            for q, d, a in self._follow(graph.get(x), since, amount):
                if q in avoid or q == x:
                    continue
                cand = path.extend(q, d, a)
                if q not in two or _better(cand, two[q], amount):
                    two[q] = cand
        return two

    def _edge(self, graph: dict[int, Edges], p: int, q: int, since: int
              ) -> tuple[int, float] | None:
        """The latest flow between p and q in the window, if any."""
        e = graph.get(p, {}).get(q)
        return e if e is not None and e[0] > since else None

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
        in_s = self.inn.get(s, {})
        relay = sum(1 for q, (d, a) in in_s.items()
                    if q != b and d > day - RELAY_DAYS and abs(a / amount - 1) <= RELAY_BAND)
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
        seen = {q for g in (self.out, self.inn) for q, (d, _) in g.get(small, {}).items()
                if d > since and q not in (s, b)}
        return sum(1 for q in seen if self._edge(self.out, large, q, since) is not None
                   or self._edge(self.inn, large, q, since) is not None)

    # --- registering ---------------------------------------------------------------------

    def add(self, s: int, b: int, day: int, amount: float, inst: int, broker: int, office: int,
            closed: bool) -> None:
        """Add a registered contract (``closed``: whether it closed a cycle when checked)."""
        if not amount > 0:
            return
        for graph, p, q in ((self.out, s, b), (self.inn, b, s)):
            edges = graph.setdefault(p, {})
            edges[q] = (day, amount)
            if len(edges) >= 64 and len(edges) & (len(edges) - 1) == 0:
                _prune(edges, day - self.window)
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
        """Check a contract, then add it: one step of the registry replay."""
        facts = self.check(s, b, day, amount, same_region, inst, broker, office)
        self.add(s, b, day, amount, inst, broker, office, facts.cycle_len > 0)
        return facts


def _meet(pairs: tuple[tuple[dict[int, Path], dict[int, Path]], ...], amount: float
          ) -> Path | None:
    """The best cycle joining a forward and a backward half at a shared party, if any."""
    best: Path | None = None
    for fwd, back in pairs:
        for q in sorted(fwd.keys() & back.keys()):
            f, k = fwd[q], back[q]
            if set(f.nodes[:-1]) & set(k.nodes[:-1]):
                continue  # not simple; cannot happen once shorter cycles were ruled out
            joined = Path(f.nodes + k.nodes[-2::-1], min(f.low, k.low), max(f.high, k.high),
                          min(f.first, k.first))
            if best is None or _better(joined, best, amount):
                best = joined
    return best


def _prune(edges: Edges, since: int) -> None:
    """Drop flows that left the window: registration days only grow, so they never return."""
    stale = [q for q, (d, _) in edges.items() if d <= since]
    for q in stale:
        del edges[q]


def _in_band(a: float, amount: float) -> bool:
    return amount / CYCLE_AMOUNT_BAND <= a <= amount * CYCLE_AMOUNT_BAND


def _better(a: Path, b: Path, amount: float) -> bool:
    """More even amounts first, then the shorter span, then the smaller parties (a total order)."""
    ra = min(a.low, amount) / max(a.high, amount)
    rb = min(b.low, amount) / max(b.high, amount)
    if ra != rb:
        return ra > rb
    if a.first != b.first:
        return a.first > b.first
    return a.nodes < b.nodes


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
    """Network features of contracts at sorted positions ``rows``, by replaying the registry."""
    c = h.contracts
    if len(rows) == 0:
        return {n: np.empty(0) for n in NETWORK_COLUMNS}
    reg = c["reg"].to_numpy()
    lo = min(replay_start(reg, int(reg[rows[0]])), int(rows[0]))
    got = replay(FlowGraph(), c, lo, int(rows[-1]) + 1, rows)
    return {n: got[:, i] for i, n in enumerate(NETWORK_COLUMNS)}
