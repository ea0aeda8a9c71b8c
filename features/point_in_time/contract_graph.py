"""The contract flow network, kept incrementally: cycles, fans, relays and related-party ties.

A contract is checked against the contracts registered before it, exactly as the real-time
check sees the register, so batch and online share one object and one compiled engine: the
batch pass replays the register in ``(registered_date, contract_id)`` order through
:func:`replay` (one compiled loop, :func:`features.point_in_time.flow_patterns.replay_loop`),
and the online state keeps the same graph and calls :meth:`FlowGraph.check` on a new
contract, then :meth:`FlowGraph.add` once it is registered. Both run the same kernels on the
same arrays in the same order, so they give identical values, which a test proves.

The graph is every contract as a row of plain numpy arrays, and each party's flows as one
contiguous segment read newest first (layout: :mod:`features.point_in_time.flow_walk`; cycle
search:
:mod:`features.point_in_time.flow_cycles`; the other patterns:
:mod:`features.point_in_time.flow_patterns`). It is append-only and pickles as a handful of
arrays (contracts, party heads, per-party window totals, the pair index: see
:mod:`features.point_in_time.flow_index`), trimmed to the contracts held; the search scratch
is rebuilt on load.

Hubs. A university may have thousands of counterparties; expanding it in full would make one
check cost millions of steps. Where more than ``SEARCH_FANOUT`` distinct counterparties are
eligible at a step of a search, the ``SEARCH_FANOUT`` closest in amount to the contract being
checked are followed (each counterparty once, however many flows it has; ties to the smaller
party code). Rings pass amounts on nearly intact, so the legs of a ring through a hub are among
those kept. Counts over a party's window (fans, volumes) are running totals, and shared
counterparties walk the smaller party's flows, so they count every flow and stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.point_in_time import flow_patterns as kernels
from features.point_in_time.catalogue import CYCLE_MAX_LEN, FLOW_WINDOW_DAYS, SEARCH_FANOUT
from features.point_in_time.flow_cycles import search_scratch
from features.point_in_time.flow_index import (
    AGG_WIDTH,
    EMPTY,
    TAIL_FULL,
    TAIL_SHORT,
    rehash,
)
from features.point_in_time.flow_walk import (
    IN,
    MIN_SEGMENT,
    N_CONTRACTS,
    N_FIELDS,
    N_MARKS,
    N_POOL,
    OUT,
    POOL_USED,
    SEG_LEN,
    STAMP,
    StoreArrays,
    compact,
)
from features.point_in_time.history import History

REPLAY_CHUNK = 1 << 16  # contracts per compiled replay call: room is made between calls

if CYCLE_MAX_LEN != 6:  # three levels forward and two back: the search is written for 6
    raise RuntimeError("flow_cycles searches cycles of up to 6 parties")


@dataclass(frozen=True)
class FlowFacts:
    """Network features of one contract at its registration (see the catalogue)."""

    cycle_len: int  # parties on the shortest cycle it closes, 0 when none
    cycle_ratio: float  # smallest / largest amount on that cycle, NaN when none
    cycle_span: float  # days from the cycle's earliest leg to this contract, NaN when none
    relay_in: int
    relay_chain: int
    seller_fan_out_short: int
    seller_fan_out: int
    buyer_fan_in_short: int
    buyer_fan_in: int
    scatter_gather: int
    gather_scatter: int
    common: int
    ties: int
    party_cycle_share: float  # NaN when neither party has a contract in the window

    @classmethod
    def of(cls, row: np.ndarray) -> FlowFacts:
        values = row.tolist()
        floats = {kernels.CYCLE_RATIO, kernels.CYCLE_SPAN, kernels.PARTY_SHARE}
        return cls(*(v if k in floats else int(v) for k, v in enumerate(values)))


class FlowGraph:
    """Every contract of the window and before, as arrays; see the module docstring."""

    def __init__(self, window: int = FLOW_WINDOW_DAYS, fanout: int = SEARCH_FANOUT) -> None:
        self.window = window
        self.fanout = fanout
        self.ci = np.empty((0, N_FIELDS), dtype=np.int32)
        self.amt = np.empty(0)
        self.pool = np.empty((0, N_POOL), dtype=np.int32)
        self.pamt = np.empty(0)
        self.seg = np.zeros((0, 6), dtype=np.int64)
        self.agg = np.empty((0, 2 * AGG_WIDTH), dtype=np.int64)
        self.keys = np.full(1024, EMPTY, dtype=np.int64)
        self.vals = np.empty(1024, dtype=np.int32)
        self.meta = np.zeros(3, dtype=np.int64)
        self._scratch(0)

    def _scratch(self, parties: int) -> None:
        """Search scratch, one row per party: never part of the pickled state."""
        self.mark = np.zeros((parties, N_MARKS), dtype=np.int64)
        self.cand_i = np.empty((parties, 3), dtype=np.int64)
        self.cand_f = np.empty(parties)
        self.halves = tuple(tuple(half) for half in search_scratch(self.fanout))  # plain: _store
        self.meta[STAMP] = 0
        self._row = np.empty(kernels.N_COLUMNS)

    def _store(self) -> StoreArrays:
        """The kernels' store, as plain tuples (see ``flow_walk.as_store``)."""
        return (self.ci, self.amt, self.pool, self.pamt, self.seg, self.agg, self.keys,
                self.vals, self.mark, self.cand_i, self.cand_f, self.meta, self.halves)

    def __len__(self) -> int:
        return int(self.meta[N_CONTRACTS])

    def reserve(self, contracts: int, parties: int, seller: np.ndarray | None = None,
                buyer: np.ndarray | None = None) -> None:
        """Room for ``contracts`` more contracts (by ``seller`` / ``buyer`` when given) and
        party codes below ``parties``; every capacity doubles, so appending one at a time
        stays linear."""
        n = len(self)
        if n + contracts > len(self.ci):
            size = max(n + contracts, 2 * len(self.ci), 1024)
            ci, amt = np.empty((size, N_FIELDS), dtype=np.int32), np.empty(size)
            ci[:n], amt[:n] = self.ci[:n], self.amt[:n]
            self.ci, self.amt = ci, amt
        if 2 * len(self.ci) > len(self.keys):  # a pair per contract at most: half full
            size = 1 << int(2 * len(self.ci) - 1).bit_length()
            keys, vals = np.full(size, EMPTY, dtype=np.int64), np.empty(size, dtype=np.int32)
            rehash(self.keys, self.vals, keys, vals)
            self.keys, self.vals = keys, vals
        if parties > len(self.seg):
            old = len(self.seg)
            size = max(parties, 2 * old, 1024)
            seg = np.zeros((size, 6), dtype=np.int64)
            agg = np.zeros((size, 2 * AGG_WIDTH), dtype=np.int64)
            agg[:, [TAIL_FULL, TAIL_SHORT, AGG_WIDTH + TAIL_FULL, AGG_WIDTH + TAIL_SHORT]] = -1
            seg[:old], agg[:old] = self.seg, self.agg
            stamp, mark = int(self.meta[STAMP]), self.mark
            self.seg, self.agg = seg, agg
            self._scratch(size)
            self.mark[:old] = mark
            self.meta[STAMP] = stamp
        if seller is not None and buyer is not None:
            self._reserve_pool(seller, buyer)

    def _reserve_pool(self, seller: np.ndarray, buyer: np.ndarray) -> None:
        """Room in the pool for these flows: a segment that fills moves at twice its size, so
        a party's segment needs at most 4 x its final length + 2 x MIN_SEGMENT more rows.
        When there is not, the pool is rebuilt tightly at twice the size (or what is needed)."""
        need = 0
        for d, parties in ((OUT, seller), (IN, buyer)):
            p, added = np.unique(parties, return_counts=True)
            length = self.seg[p, 3 * d + SEG_LEN]
            need += int((4 * (length + added) + 2 * MIN_SEGMENT).sum())
        used = int(self.meta[POOL_USED])
        if used + need <= len(self.pool):
            return
        live = int(self.seg[:, [SEG_LEN, 3 + SEG_LEN]].sum()) + MIN_SEGMENT * len(self.seg) * 2
        size = max(2 * len(self.pool), live + need, 4096)
        pool, pamt = np.empty((size, N_POOL), dtype=np.int32), np.empty(size)
        self.meta[POOL_USED] = compact(self.pool, self.pamt, self.seg, pool, pamt)
        self.pool, self.pamt = pool, pamt

    def __getstate__(self) -> dict[str, Any]:
        n = len(self)
        seg = self.seg.copy()
        live = int(seg[:, [SEG_LEN, 3 + SEG_LEN]].sum()) + MIN_SEGMENT * len(seg) * 2
        pool, pamt = np.empty((live, N_POOL), dtype=np.int32), np.empty(live)
        used = compact(self.pool, self.pamt, seg, pool, pamt)
        return {"window": self.window, "fanout": self.fanout, "n": n, "ci": self.ci[:n].copy(),
                "amt": self.amt[:n].copy(), "pool": pool[:used], "pamt": pamt[:used],
                "seg": seg, "agg": self.agg, "keys": self.keys, "vals": self.vals}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.window, self.fanout = state["window"], state["fanout"]
        for name in ("ci", "amt", "pool", "pamt", "seg", "agg", "keys", "vals"):
            setattr(self, name, state[name])
        self.meta = np.array([state["n"], 0, len(self.pool)], dtype=np.int64)
        self._scratch(len(self.seg))

    # --- looking and registering ---------------------------------------------------------

    def check(self, s: int, b: int, day: int, amount: float, same_region: bool, inst: int,
              broker: int, office: int) -> FlowFacts:
        """Features of a contract s -> b about to be registered on ``day`` (nothing is added)."""
        self.reserve(0, max(s, b) + 1)
        c = (s, b, day, float(amount), inst, broker, office)
        kernels.check_plain(self._store(), c, bool(same_region), self.window, self.fanout,
                            self._row)
        return FlowFacts.of(self._row)

    def _room_for(self, s: int, b: int) -> None:
        self.reserve(1, max(s, b) + 1, np.array([s]), np.array([b]))

    def add(self, s: int, b: int, day: int, amount: float, inst: int, broker: int, office: int,
            closed: bool) -> None:
        """Add a registered contract (``closed``: whether it closed a cycle when checked)."""
        self._room_for(s, b)
        c = (s, b, day, float(amount), inst, broker, office)
        kernels.add_checked_plain(self._store(), c, bool(closed), self.window)

    def step(self, s: int, b: int, day: int, amount: float, same_region: bool, inst: int,
             broker: int, office: int) -> FlowFacts:
        """Check a contract, then add it: one step of the register replay."""
        facts = self.check(s, b, day, amount, same_region, inst, broker, office)
        self._room_for(s, b)
        c = (s, b, day, float(amount), inst, broker, office)
        kernels.add_plain(self._store(), c, facts.cycle_len > 0, facts.relay_chain + 1,
                          self.window)
        return facts


NETWORK_COLUMNS = ("ctr_cycle_len", "ctr_cycle_amount_ratio", "ctr_cycle_span_days",
                   "ctr_relay_in", "ctr_relay_chain", "ctr_seller_fan_out_30d",
                   "ctr_seller_fan_out_365d", "ctr_buyer_fan_in_30d", "ctr_buyer_fan_in_365d",
                   "ctr_scatter_gather", "ctr_gather_scatter", "ctr_common_counterparties",
                   "ctr_related_ties", "ctr_party_cycle_share")
if len(NETWORK_COLUMNS) != kernels.N_COLUMNS:
    raise RuntimeError("NETWORK_COLUMNS must follow the kernels' row layout")


def as_row(f: FlowFacts) -> tuple[float, ...]:
    """The facts in :data:`NETWORK_COLUMNS` order."""
    return tuple(float(v) for v in (
        f.cycle_len, f.cycle_ratio, f.cycle_span, f.relay_in, f.relay_chain,
        f.seller_fan_out_short, f.seller_fan_out, f.buyer_fan_in_short, f.buyer_fan_in,
        f.scatter_gather, f.gather_scatter, f.common, f.ties, f.party_cycle_share))


def replay_start(reg: np.ndarray, day: int, window: int = FLOW_WINDOW_DAYS) -> int:
    """First contract a replay must start from for exact features from ``day`` on.

    A feature reads flows of one window back, and the share of a party's volume on cycles
    reads cycle flags that themselves looked one window further: two windows suffice (a
    relay chain reaches back at most ``RELAY_MAX`` hops of ``RELAY_DAYS``, 450 days).
    """
    return int(np.searchsorted(reg, day - 2 * window, side="right"))


def replay(graph: FlowGraph, c: pd.DataFrame, lo: int, hi: int,
           want: np.ndarray | None = None) -> np.ndarray:
    """Step contracts ``lo:hi`` of the prepared table through ``graph``, in compiled code.

    Returns the network features of the positions in ``want`` (sorted, within ``lo:hi``), one
    row each in :data:`NETWORK_COLUMNS` order.
    """
    seller, buyer = (c[k].to_numpy()[lo:hi].astype(np.int64) for k in ("seller", "buyer"))
    day = c["reg"].to_numpy()[lo:hi].astype(np.int64)
    amount = c["amount"].to_numpy()[lo:hi].astype(np.float64)
    inst, broker, office = (c[k].to_numpy()[lo:hi].astype(np.int64)
                            for k in ("inst", "broker", "office"))
    sr, br = c["seller_region"].to_numpy()[lo:hi], c["buyer_region"].to_numpy()[lo:hi]
    same = (sr == br) & (sr >= 0)  # an unknown province is no tie
    slot = np.full(hi - lo, -1, dtype=np.int64)
    n_want = 0 if want is None else len(want)
    if want is not None:
        slot[want - lo] = np.arange(n_want)
    out = np.full((n_want, len(NETWORK_COLUMNS)), np.nan)
    if hi <= lo:
        return out
    graph.reserve(0, int(max(seller.max(), buyer.max())) + 1)
    for a in range(0, hi - lo, REPLAY_CHUNK):  # room is made per chunk, in Python
        z = min(a + REPLAY_CHUNK, hi - lo)
        graph.reserve(z - a, 0, seller[a:z], buyer[a:z])
        reg = kernels.Register(seller[a:z], buyer[a:z], day[a:z], amount[a:z], same[a:z],
                               inst[a:z], broker[a:z], office[a:z])
        kernels.replay_loop(graph._store(), reg, slot[a:z], graph.window, graph.fanout, out)
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
