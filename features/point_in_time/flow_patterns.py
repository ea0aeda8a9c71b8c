"""Compiled flow patterns of one contract, and the batch loop: one implementation for both paths.

:func:`check` computes every network feature of a contract s -> b on day T against the flows
in the store (the contracts registered before it), :func:`add` appends it, and
:func:`replay_loop` runs check-then-add over a whole slice of the register in compiled code.
The real-time state calls :func:`check` and :func:`add` one contract at a time on the same
arrays, so batch and real time agree bit for bit (same kernels, same state, same order).

Every walk stops at the window's edge (flows on days after T - window count); counts over a
party's whole window come from running totals (:mod:`features.point_in_time.flow_index`). The
row layout is :data:`features.point_in_time.contract_graph.NETWORK_COLUMNS`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from features.point_in_time.catalogue import FAN_SHORT_DAYS, RELAY_BAND, RELAY_DAYS
from features.point_in_time.flow_cycles import shortest_cycle
from features.point_in_time.flow_index import index_contract, latest, window_totals
from features.point_in_time.flow_walk import (
    BUYER,
    CAND_PARTY,
    CHAIN,
    CLOSED,
    D_STAMP,
    DAY,
    E_STAMP,
    IN,
    N_CONTRACTS,
    NEVER,
    OUT,
    P_BROKER,
    P_CONTRACT,
    P_DAY,
    P_INST,
    P_OFFICE,
    P_PARTY,
    SELLER,
    Contract,
    Limits,
    Store,
    StoreArrays,
    Walk,
    append,
    as_store,
    candidates,
    fresh_stamp,
    in_band,
    segment,
)

(CYCLE_LEN, CYCLE_RATIO, CYCLE_SPAN, RELAY_IN, RELAY_CHAIN, FAN_OUT_SHORT, FAN_OUT,
 FAN_IN_SHORT, FAN_IN, SCATTER_GATHER, GATHER_SCATTER, COMMON, TIES, PARTY_SHARE) = range(14)
N_COLUMNS = 14
RELAY_MAX = 5  # a relay chain is counted up to this many earlier legs


class Register(NamedTuple):
    """A slice of the register in registration order, one array per column (the columns of
    :class:`~features.point_in_time.flow_walk.Contract`, and whether the parties share a
    known province)."""

    seller: np.ndarray  # int64
    buyer: np.ndarray  # int64
    day: np.ndarray  # int64
    amount: np.ndarray  # float64
    same: np.ndarray  # bool
    inst: np.ndarray  # int64
    broker: np.ndarray  # int64
    office: np.ndarray  # int64


@njit(cache=True)
def _relay(store: Store, c: Contract) -> tuple[int, int]:
    """(relay_in, relay_chain) of ``c``, s -> b: the distinct parties other than b that sold
    to s in the last RELAY_DAYS within ±RELAY_BAND of its amount, and the longest chain of
    such purchases (each hop within RELAY_DAYS and ±RELAY_BAND of the next) ending at s, up
    to RELAY_MAX earlier legs. Each contract stores its own chain length when added, so the
    chain is one walk, not a search."""
    ci, _, pool, pamt, seg, _, _, _, mark, _, _, meta, _ = store
    s, b, day, amount = c.seller, c.buyer, c.day, c.amount
    stamp = fresh_stamp(meta)
    n, chain = 0, 0
    first, r = segment(seg, s, IN)
    r -= 1
    while r >= first and pool[r, P_DAY] > day - RELAY_DAYS:
        q = pool[r, P_PARTY]
        if q != b and abs(pamt[r] / amount - 1.0) <= RELAY_BAND:
            chain = max(chain, min(int(ci[pool[r, P_CONTRACT], CHAIN]), RELAY_MAX))
            if mark[q, D_STAMP] != stamp:
                mark[q, D_STAMP] = stamp
                n += 1
        r -= 1
    return n, chain


@njit(cache=True)
def _in_window(ci: np.ndarray, amt: np.ndarray, j: int, since: int, amount: float) -> bool:
    """Whether contract ``j`` (a pair's latest, or -1) lies in the window and the band."""
    return j >= 0 and ci[j, DAY] > since and in_band(amt[j], amount)


@njit(cache=True)
def _scatter_gather(store: Store, c: Contract, lim: Limits) -> int:
    """The most intermediaries m (not s, b or u) that one source u paid while also paying s,
    and that paid b: each pair's latest flow of the window, in the cycle band. Sources are the
    parties that sold to s, capped like a search step (the ``lim.fanout`` closest in amount).

    Per source, the shorter of u's sales and b's purchases is walked (newest first: the first
    flow seen of a pair is its latest) and the other side looked up in the pair index, so a
    hub on either side costs the other side's degree.
    """
    ci, amt, pool, pamt, seg, agg, keys, vals, mark, cand_i, cand_f, meta, _ = store
    s, b, day, amount = c.seller, c.buyer, c.day, c.amount
    since, window = lim.since, lim.window
    k, _ = candidates(Walk(pool, pamt, seg, mark, cand_i, cand_f, meta), s, IN, since + 1, NEVER,
                      c, lim)
    if k == 0:
        return 0
    into_b = window_totals(ci, amt, agg, b, IN, day, window, window)[1]
    best = 0
    for j in range(k):
        u = cand_i[j, CAND_PARTY]
        from_u = window_totals(ci, amt, agg, u, OUT, day, window, window)[1]
        d = OUT if from_u <= into_b else IN
        seen = fresh_stamp(meta)
        n = 0
        first, r = segment(seg, u if d == OUT else b, d)
        r -= 1
        while r >= first and pool[r, P_DAY] > since:
            m = pool[r, P_PARTY]
            if mark[m, E_STAMP] != seen:
                mark[m, E_STAMP] = seen
                if m != s and m != b and m != u and in_band(pamt[r], amount):
                    other = latest(keys, vals, m, b) if d == OUT else latest(keys, vals, u, m)
                    n += _in_window(ci, amt, other, since, amount)
            r -= 1
        best = max(best, n)
    return best


@njit(cache=True)
def _traded(ci: np.ndarray, keys: np.ndarray, vals: np.ndarray, p: int, q: int, since: int
            ) -> bool:
    """Whether p and q traded in the window, either direction."""
    j, k = latest(keys, vals, p, q), latest(keys, vals, q, p)
    return (j >= 0 and ci[j, DAY] > since) or (k >= 0 and ci[k, DAY] > since)


@njit(cache=True)
def _neighbourhood(store: Store, c: Contract, lim: Limits, small_is_b: bool
                   ) -> tuple[int, int]:
    """(shared counterparties, ties other than the province and a shared counterparty) of
    s -> b (``small_is_b``: whether b has fewer flows in the window than s).

    Shared counterparties walk the smaller party's flows of the window and look the larger
    party up in the pair index. The ties "the buyer used this broker, institution, office in
    the window" walk the buyer's flows, stopping once all are found.
    """
    ci, _, pool, _, seg, _, keys, vals, mark, _, _, meta, _ = store
    s, b, since = c.seller, c.buyer, lim.since
    inst, broker, office = c.inst, c.broker, c.office
    small, large = (b, s) if small_is_b else (s, b)
    seen = fresh_stamp(meta)
    common = 0
    for d in (OUT, IN):
        first, r = segment(seg, small, d)
        r -= 1
        while r >= first and pool[r, P_DAY] > since:
            q = pool[r, P_PARTY]
            if q != s and q != b and mark[q, D_STAMP] != seen:
                mark[q, D_STAMP] = seen
                common += _traded(ci, keys, vals, large, q, since)
            r -= 1
    want_inst, want_broker, want_office = inst >= 0, broker >= 0, office >= 0
    used = 0
    for d in (OUT, IN):
        first, r = segment(seg, b, d)
        r -= 1
        while (r >= first and pool[r, P_DAY] > since
               and (want_inst or want_broker or want_office)):
            if want_inst and pool[r, P_INST] == inst:
                want_inst, used = False, used + 1
            if want_broker and pool[r, P_BROKER] == broker:
                want_broker, used = False, used + 1
            if want_office and pool[r, P_OFFICE] == office:
                want_office, used = False, used + 1
            r -= 1
    return common, used + int(_traded(ci, keys, vals, s, b, since))


@njit(cache=True)
def check(store: Store, c: Contract, same_region: bool, window: int, fanout: int,
          out: np.ndarray) -> None:
    """Every network feature of ``c`` (s -> b registered on its day), into ``out`` (nothing
    added), over flows of the last ``window`` days with at most ``fanout`` counterparties per
    search step; ``same_region``: whether the parties share a known province.

    A contract without a positive amount (which ingest rejects, but a raw table may hold)
    takes part in no flow: it gets the facts of a party with no history.
    """
    ci, amt, agg, keys, vals = store.ci, store.amt, store.agg, store.keys, store.vals
    s, b, day, amount = c.seller, c.buyer, c.day, c.amount
    out[:] = 0.0
    out[CYCLE_RATIO] = out[CYCLE_SPAN] = out[PARTY_SHARE] = np.nan
    out[TIES] = 1.0 if same_region else 0.0
    if not amount > 0:
        return
    since = day - window
    lim = Limits(since, window, fanout)
    shortest_cycle(store, c, lim, out)
    out[RELAY_IN], out[RELAY_CHAIN] = _relay(store, c)
    s_out = window_totals(ci, amt, agg, s, OUT, day, window, FAN_SHORT_DAYS)
    s_in = window_totals(ci, amt, agg, s, IN, day, window, FAN_SHORT_DAYS)
    b_out = window_totals(ci, amt, agg, b, OUT, day, window, FAN_SHORT_DAYS)
    b_in = window_totals(ci, amt, agg, b, IN, day, window, FAN_SHORT_DAYS)
    out[FAN_OUT_SHORT], out[FAN_OUT] = s_out[0], s_out[1]
    out[FAN_IN_SHORT], out[FAN_IN] = b_in[0], b_in[1]
    out[SCATTER_GATHER] = _scatter_gather(store, c, lim)
    back, forth = latest(keys, vals, b, s), latest(keys, vals, s, b)
    sources = s_in[1] - int(back >= 0 and ci[back, DAY] > since)
    targets = s_out[1] + int(not (forth >= 0 and ci[forth, DAY] > since))
    out[GATHER_SCATTER] = min(sources, targets)
    small_is_b = b_out[1] + b_in[1] < s_out[1] + s_in[1]
    common, used = _neighbourhood(store, c, lim, small_is_b)
    out[COMMON] = common
    out[TIES] += used + int(common > 0)
    share = -1.0
    for tot, cyc in ((s_out[2] + s_in[2], s_out[3] + s_in[3]),
                     (b_out[2] + b_in[2], b_out[3] + b_in[3])):
        if tot > 0:
            share = max(share, cyc / tot)
    out[PARTY_SHARE] = share if share >= 0 else np.nan


@njit(cache=True)
def add(store: Store, c: Contract, closed: bool, chain: int, window: int) -> None:
    """Append a registered contract (the caller has made room; see ``FlowGraph.reserve``).

    ``closed``: whether it closed a cycle when checked; ``chain``: the contracts of the
    longest relay chain it ends (itself included), both read by later checks.
    """
    ci, amt, pool, pamt, seg, agg, keys, vals, _, _, _, meta, _ = store
    if not c.amount > 0:
        return
    n = meta[N_CONTRACTS]
    ci[n, SELLER], ci[n, BUYER], ci[n, DAY] = c.seller, c.buyer, c.day
    ci[n, CLOSED], ci[n, CHAIN] = closed, chain
    amt[n] = c.amount
    index_contract(ci, amt, pool, seg, agg, keys, vals, n, window, FAN_SHORT_DAYS)
    append(pool, pamt, seg, meta, OUT, n, c)
    append(pool, pamt, seg, meta, IN, n, c)
    meta[N_CONTRACTS] = n + 1


@njit(cache=True)
def add_checked(store: Store, c: Contract, closed: bool, window: int) -> None:
    """:func:`add` for a contract whose check is known only by whether it closed a cycle:
    its relay chain is recomputed (one walk of the seller's recent purchases)."""
    chain = 0
    if c.amount > 0:
        chain = _relay(store, c)[1]
    add(store, c, closed, chain + 1, window)


# --- called from Python: the store's arrays and a contract as plain tuples (see as_store) ---

ContractFields = tuple[int, int, int, float, int, int, int]  # a Contract's, in order


@njit(cache=True)
def check_plain(arrays: StoreArrays, c: ContractFields, same_region: bool, window: int,
                fanout: int, out: np.ndarray) -> None:
    """:func:`check` called from Python."""
    check(as_store(arrays), Contract(*c), same_region, window, fanout, out)


@njit(cache=True)
def add_plain(arrays: StoreArrays, c: ContractFields, closed: bool, chain: int, window: int
              ) -> None:
    """:func:`add` called from Python."""
    add(as_store(arrays), Contract(*c), closed, chain, window)


@njit(cache=True)
def add_checked_plain(arrays: StoreArrays, c: ContractFields, closed: bool, window: int
                      ) -> None:
    """:func:`add_checked` called from Python."""
    add_checked(as_store(arrays), Contract(*c), closed, window)


@njit(cache=True)
def replay_loop(arrays: StoreArrays, reg: Register, slot: np.ndarray, window: int, fanout: int,
                out: np.ndarray) -> None:
    """Check then add each contract of ``reg`` in turn; the rows of those with ``slot >= 0``
    go to ``out[slot]``."""
    store = as_store(arrays)
    row = np.empty(N_COLUMNS)
    for k in range(len(reg.seller)):
        c = Contract(reg.seller[k], reg.buyer[k], reg.day[k], reg.amount[k], reg.inst[k],
                     reg.broker[k], reg.office[k])
        check(store, c, reg.same[k], window, fanout, row)
        if slot[k] >= 0:
            out[slot[k], :] = row
        add(store, c, row[CYCLE_LEN] > 0, int(row[RELAY_CHAIN]) + 1, window)
