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
    append,
    candidates,
    fresh_stamp,
    in_band,
    segment,
)

(CYCLE_LEN, CYCLE_RATIO, CYCLE_SPAN, RELAY_IN, RELAY_CHAIN, FAN_OUT_SHORT, FAN_OUT,
 FAN_IN_SHORT, FAN_IN, SCATTER_GATHER, GATHER_SCATTER, COMMON, TIES, PARTY_SHARE) = range(14)
N_COLUMNS = 14
RELAY_MAX = 5  # a relay chain is counted up to this many earlier legs
# the arrays of a FlowGraph, in this order: ci, amt, pool, pamt, seg, agg, pair keys, pair
# values, and the scratch mark, cand_i, cand_f, meta and the search halves
Store = tuple[np.ndarray, ...]


@njit(cache=True)
def _relay(ci: np.ndarray, pool: np.ndarray, pamt: np.ndarray, seg: np.ndarray,
           mark: np.ndarray, meta: np.ndarray, s: int, b: int, day: int, amount: float
           ) -> tuple[int, int]:
    """(relay_in, relay_chain) of s -> b: the distinct parties other than b that sold to s in
    the last RELAY_DAYS within ±RELAY_BAND of this amount, and the longest chain of such
    purchases (each hop within RELAY_DAYS and ±RELAY_BAND of the next) ending at s, up to
    RELAY_MAX earlier legs. Each contract stores its own chain length when added, so the chain
    is one walk, not a search."""
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
def _scatter_gather(ci: np.ndarray, amt: np.ndarray, pool: np.ndarray, pamt: np.ndarray,
                    seg: np.ndarray, mark: np.ndarray, cand_i: np.ndarray, cand_f: np.ndarray,
                    agg: np.ndarray, keys: np.ndarray, vals: np.ndarray, meta: np.ndarray,
                    s: int, b: int, day: int, since: int, window: int, amount: float,
                    fanout: int) -> int:
    """The most intermediaries m (not s, b or u) that one source u paid while also paying s,
    and that paid b: each pair's latest flow of the window, in the cycle band. Sources are the
    parties that sold to s, capped like a search step (the ``fanout`` closest in amount).

    Per source, the shorter of u's sales and b's purchases is walked (newest first: the first
    flow seen of a pair is its latest) and the other side looked up in the pair index, so a
    hub on either side costs the other side's degree.
    """
    k, _ = candidates(pool, pamt, seg, mark, cand_i, cand_f, meta, s, IN, since + 1, NEVER,
                      amount, s, b, fanout)
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
def _neighbourhood(ci: np.ndarray, pool: np.ndarray, seg: np.ndarray, mark: np.ndarray,
                   keys: np.ndarray, vals: np.ndarray, meta: np.ndarray, s: int, b: int,
                   since: int, small_is_b: bool, inst: int, broker: int, office: int
                   ) -> tuple[int, int]:
    """(shared counterparties, ties other than the province and a shared counterparty).

    Shared counterparties walk the smaller party's flows of the window and look the larger
    party up in the pair index. The ties "the buyer used this broker, institution, office in
    the window" walk the buyer's flows, stopping once all are found.
    """
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
def check(store: Store, s: int, b: int, day: int, amount: float, same_region: bool, inst: int,
          broker: int, office: int, window: int, fanout: int, out: np.ndarray) -> None:
    """Every network feature of s -> b registered on ``day``, into ``out`` (nothing added).

    A contract without a positive amount (which ingest rejects, but a raw table may hold)
    takes part in no flow: it gets the facts of a party with no history.
    """
    ci, amt, pool, pamt, seg, agg, keys, vals, mark, cand_i, cand_f, meta, halves = store
    out[:] = 0.0
    out[CYCLE_RATIO] = out[CYCLE_SPAN] = out[PARTY_SHARE] = np.nan
    out[TIES] = 1.0 if same_region else 0.0
    if not amount > 0:
        return
    since = day - window
    shortest_cycle(ci, amt, pool, pamt, seg, mark, cand_i, cand_f, meta, halves, s, b, day,
                   amount, since, fanout, out)
    out[RELAY_IN], out[RELAY_CHAIN] = _relay(ci, pool, pamt, seg, mark, meta, s, b, day, amount)
    s_out = window_totals(ci, amt, agg, s, OUT, day, window, FAN_SHORT_DAYS)
    s_in = window_totals(ci, amt, agg, s, IN, day, window, FAN_SHORT_DAYS)
    b_out = window_totals(ci, amt, agg, b, OUT, day, window, FAN_SHORT_DAYS)
    b_in = window_totals(ci, amt, agg, b, IN, day, window, FAN_SHORT_DAYS)
    out[FAN_OUT_SHORT], out[FAN_OUT] = s_out[0], s_out[1]
    out[FAN_IN_SHORT], out[FAN_IN] = b_in[0], b_in[1]
    out[SCATTER_GATHER] = _scatter_gather(ci, amt, pool, pamt, seg, mark, cand_i, cand_f, agg,
                                          keys, vals, meta, s, b, day, since, window, amount,
                                          fanout)
    back, forth = latest(keys, vals, b, s), latest(keys, vals, s, b)
    sources = s_in[1] - int(back >= 0 and ci[back, DAY] > since)
    targets = s_out[1] + int(not (forth >= 0 and ci[forth, DAY] > since))
    out[GATHER_SCATTER] = min(sources, targets)
    small_is_b = b_out[1] + b_in[1] < s_out[1] + s_in[1]
    common, used = _neighbourhood(ci, pool, seg, mark, keys, vals, meta, s, b, since,
                                  small_is_b, inst, broker, office)
    out[COMMON] = common
    out[TIES] += used + int(common > 0)
    share = -1.0
    for tot, cyc in ((s_out[2] + s_in[2], s_out[3] + s_in[3]),
                     (b_out[2] + b_in[2], b_out[3] + b_in[3])):
        if tot > 0:
            share = max(share, cyc / tot)
    out[PARTY_SHARE] = share if share >= 0 else np.nan


@njit(cache=True)
def add(store: Store, s: int, b: int, day: int, amount: float, inst: int, broker: int,
        office: int, closed: bool, chain: int, window: int) -> None:
    """Append a registered contract (the caller has made room; see ``FlowGraph.reserve``).

    ``closed``: whether it closed a cycle when checked; ``chain``: the contracts of the
    longest relay chain it ends (itself included), both read by later checks.
    """
    ci, amt, pool, pamt, seg, agg, keys, vals, _, _, _, meta, _ = store
    if not amount > 0:
        return
    n = meta[N_CONTRACTS]
    ci[n, SELLER], ci[n, BUYER], ci[n, DAY] = s, b, day
    ci[n, CLOSED], ci[n, CHAIN] = closed, chain
    amt[n] = amount
    index_contract(ci, amt, pool, seg, agg, keys, vals, n, window, FAN_SHORT_DAYS)
    append(pool, pamt, seg, meta, s, OUT, n, day, b, inst, broker, office, amount)
    append(pool, pamt, seg, meta, b, IN, n, day, s, inst, broker, office, amount)
    meta[N_CONTRACTS] = n + 1


@njit(cache=True)
def add_checked(store: Store, s: int, b: int, day: int, amount: float, inst: int, broker: int,
                office: int, closed: bool, window: int) -> None:
    """:func:`add` for a contract whose check is known only by whether it closed a cycle:
    its relay chain is recomputed (one walk of the seller's recent purchases)."""
    ci, _, pool, pamt, seg, _, _, _, mark, _, _, meta, _ = store
    chain = 0
    if amount > 0:
        chain = _relay(ci, pool, pamt, seg, mark, meta, s, b, day, amount)[1]
    add(store, s, b, day, amount, inst, broker, office, closed, chain + 1, window)


@njit(cache=True)
def replay_loop(store: Store, seller: np.ndarray, buyer: np.ndarray, day: np.ndarray,
                amount: np.ndarray, same: np.ndarray, inst: np.ndarray, broker: np.ndarray,
                office: np.ndarray, slot: np.ndarray, window: int, fanout: int,
                out: np.ndarray) -> None:
    """Check then add each contract in turn; the rows of those with ``slot >= 0`` go to
    ``out[slot]``."""
    row = np.empty(N_COLUMNS)
    for k in range(len(seller)):
        check(store, seller[k], buyer[k], day[k], amount[k], same[k], inst[k], broker[k],
              office[k], window, fanout, row)
        if slot[k] >= 0:
            out[slot[k], :] = row
        add(store, seller[k], buyer[k], day[k], amount[k], inst[k], broker[k], office[k],
            row[CYCLE_LEN] > 0, int(row[RELAY_CHAIN]) + 1, window)
