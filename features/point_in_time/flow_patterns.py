"""Compiled flow patterns of one contract, and the batch loop: one implementation for both paths.

:func:`check` computes every network feature of a contract s -> b on day T against the flows
in the store (the contracts registered before it), :func:`add` appends it, and
:func:`replay_loop` runs check-then-add over a whole slice of the register in compiled code.
The real-time state calls :func:`check` and :func:`add` one contract at a time on the same
arrays, so batch and real time agree bit for bit (same kernels, same state, same order).

Every walk stops at the window's edge (flows on days after T - window count). The row layout
is :data:`features.point_in_time.contract_graph.NETWORK_COLUMNS`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from features.point_in_time.catalogue import FAN_SHORT_DAYS, RELAY_BAND, RELAY_DAYS
from features.point_in_time.flow_cycles import shortest_cycle
from features.point_in_time.flow_walk import (
    BROKER,
    BUYER,
    CAND_PARTY,
    CHAIN,
    CLOSED,
    D_STAMP,
    DAY,
    E_STAMP,
    IN,
    INST,
    N_CONTRACTS,
    NEVER,
    NEXT_IN,
    NEXT_OUT,
    OFFICE,
    OUT,
    SELLER,
    candidates,
    counterparty_col,
    fresh_stamp,
    in_band,
)

(CYCLE_LEN, CYCLE_RATIO, CYCLE_SPAN, RELAY_IN, RELAY_CHAIN, FAN_OUT_SHORT, FAN_OUT,
 FAN_IN_SHORT, FAN_IN, SCATTER_GATHER, GATHER_SCATTER, COMMON, TIES, PARTY_SHARE) = range(14)
N_COLUMNS = 14
RELAY_MAX = 5  # a relay chain is counted up to this many earlier legs


@njit(cache=True)
def _relay(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
           meta: np.ndarray, s: int, b: int, day: int, amount: float) -> tuple[int, int]:
    """(relay_in, relay_chain) of s -> b: the distinct parties other than b that sold to s in
    the last RELAY_DAYS within ±RELAY_BAND of this amount, and the longest chain of such
    purchases (each hop within RELAY_DAYS and ±RELAY_BAND of the next) ending at s, up to
    RELAY_MAX earlier legs. Each contract stores its own chain length when added, so the chain
    is one walk, not a search."""
    stamp = fresh_stamp(meta)
    n, chain = 0, 0
    i = head[s, IN]
    while i >= 0 and ci[i, DAY] > day - RELAY_DAYS:
        q = ci[i, SELLER]
        if q != b and abs(amt[i] / amount - 1.0) <= RELAY_BAND:
            chain = max(chain, min(int(ci[i, CHAIN]), RELAY_MAX))
            if mark[q, D_STAMP] != stamp:
                mark[q, D_STAMP] = stamp
                n += 1
        i = ci[i, NEXT_IN]
    return n, chain


@njit(cache=True)
def _fan(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray, meta: np.ndarray,
         p: int, d: int, day: int, since: int, amount: float, skip: int) -> tuple[int, int, int]:
    """Distinct counterparties of p in direction d: in the last FAN_SHORT_DAYS, in the window,
    and in the window within the cycle band (neither p itself nor ``skip`` counted there)."""
    stamp, banded = fresh_stamp(meta), fresh_stamp(meta)
    col, nxt = counterparty_col(d), NEXT_OUT + d
    short = full = in_b = 0
    i = head[p, d]
    while i >= 0 and ci[i, DAY] > since:
        q = ci[i, col]
        if mark[q, D_STAMP] != stamp:  # newest first: the first flow seen is q's latest
            mark[q, D_STAMP] = stamp
            full += 1
            short += ci[i, DAY] > day - FAN_SHORT_DAYS
        if q != p and q != skip and mark[q, E_STAMP] != banded and in_band(amt[i], amount):
            mark[q, E_STAMP] = banded
            in_b += 1
        i = ci[i, nxt]
    return short, full, in_b


@njit(cache=True)
def _scatter_gather(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
                    cand_i: np.ndarray, cand_f: np.ndarray, meta: np.ndarray, s: int, b: int,
                    since: int, amount: float, fanout: int) -> tuple[int, int]:
    """(scatter-gather, sources) of s -> b.

    Scatter-gather: the most intermediaries m (not s, b or u) that one source u paid while
    also paying s, and that paid b, all in the window and the cycle band; the sources u are
    the parties that sold to s, capped like a search step (the ``fanout`` closest in amount).
    Sources: how many distinct parties other than s and b sold to s in the window and band.
    """
    k, sources = candidates(ci, amt, head, mark, cand_i, cand_f, meta, s, IN, since + 1,
                            NEVER, amount, s, b, fanout)
    if k == 0:
        return 0, sources
    into_b = fresh_stamp(meta)
    i = head[b, IN]
    while i >= 0 and ci[i, DAY] > since:
        if in_band(amt[i], amount):
            mark[ci[i, SELLER], D_STAMP] = into_b
        i = ci[i, NEXT_IN]
    best = 0
    for j in range(k):
        u = cand_i[j, CAND_PARTY]
        seen = fresh_stamp(meta)
        n = 0
        i = head[u, OUT]
        while i >= 0 and ci[i, DAY] > since:
            m = ci[i, BUYER]
            if (m != s and m != b and m != u and mark[m, D_STAMP] == into_b
                    and mark[m, E_STAMP] != seen and in_band(amt[i], amount)):
                mark[m, E_STAMP] = seen
                n += 1
            i = ci[i, NEXT_OUT]
        best = max(best, n)
    return best, sources


@njit(cache=True)
def _cents(x: float) -> int:
    """An amount in integer cents, so volume sums are exact in any order."""
    return int(math.floor(x * 100.0 + 0.5))


@njit(cache=True)
def _neighbourhood(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
                   meta: np.ndarray, s: int, b: int, since: int, inst: int, broker: int,
                   office: int, out: np.ndarray) -> None:
    """Shared counterparties, related-party ties (without the province) and the parties'
    volume share on cycles, from one walk of each party's flows in the window."""
    around_s, counted = fresh_stamp(meta), fresh_stamp(meta)
    pair = False
    share = -1.0
    for side in range(2):
        p = s if side == 0 else b
        total = cycled = 0
        used_inst = used_broker = used_office = False
        common = 0
        for d in (OUT, IN):
            col, nxt = counterparty_col(d), NEXT_OUT + d
            i = head[p, d]
            while i >= 0 and ci[i, DAY] > since:
                q = ci[i, col]
                cents = _cents(amt[i])
                total += cents
                if ci[i, CLOSED]:
                    cycled += cents
                if side == 0:
                    if q == b:
                        pair = True
                    elif q != s:
                        mark[q, D_STAMP] = around_s
                else:
                    used_inst |= inst >= 0 and ci[i, INST] == inst
                    used_broker |= broker >= 0 and ci[i, BROKER] == broker
                    used_office |= office >= 0 and ci[i, OFFICE] == office
                    if (q != s and q != b and mark[q, D_STAMP] == around_s
                            and mark[q, E_STAMP] != counted):
                        mark[q, E_STAMP] = counted
                        common += 1
                i = ci[i, nxt]
        if total > 0:
            share = max(share, cycled / total)
        if side == 1:
            out[COMMON] = common
            out[TIES] += (int(pair) + int(common > 0) + int(used_inst) + int(used_broker)
                         + int(used_office))
    out[PARTY_SHARE] = share if share >= 0 else np.nan


@njit(cache=True)
def check(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
          cand_i: np.ndarray, cand_f: np.ndarray, meta: np.ndarray, s: int, b: int, day: int,
          amount: float, same_region: bool, inst: int, broker: int, office: int, window: int,
          fanout: int, out: np.ndarray) -> None:
    """Every network feature of s -> b registered on ``day``, into ``out`` (nothing added).

    A contract without a positive amount (which ingest rejects, but a raw table may hold)
    takes part in no flow: it gets the facts of a party with no history.
    """
    out[:] = 0.0
    out[CYCLE_RATIO] = out[CYCLE_SPAN] = out[PARTY_SHARE] = np.nan
    out[TIES] = 1.0 if same_region else 0.0
    if not amount > 0:
        return
    since = day - window
    shortest_cycle(ci, amt, head, mark, cand_i, cand_f, meta, s, b, day, amount, since,
                   fanout, out)
    relay_in, chain = _relay(ci, amt, head, mark, meta, s, b, day, amount)
    out[RELAY_IN], out[RELAY_CHAIN] = relay_in, chain
    short, full, buyers = _fan(ci, amt, head, mark, meta, s, OUT, day, since, amount, b)
    out[FAN_OUT_SHORT], out[FAN_OUT] = short, full
    short, full, _ = _fan(ci, amt, head, mark, meta, b, IN, day, since, amount, s)
    out[FAN_IN_SHORT], out[FAN_IN] = short, full
    scatter, sources = _scatter_gather(ci, amt, head, mark, cand_i, cand_f, meta, s, b, since,
                                       amount, fanout)
    out[SCATTER_GATHER] = scatter
    # the seller's sources other than the buyer, against its buyers with this one
    out[GATHER_SCATTER] = min(sources, buyers + int(s != b))
    _neighbourhood(ci, amt, head, mark, meta, s, b, since, inst, broker, office, out)


@njit(cache=True)
def add(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, meta: np.ndarray, s: int, b: int,
        day: int, amount: float, inst: int, broker: int, office: int, closed: bool,
        chain: int) -> None:
    """Append a registered contract (the caller has made room; see ``FlowGraph.reserve``).

    ``closed``: whether it closed a cycle when checked; ``chain``: the contracts of the
    longest relay chain it ends (itself included), both read by later checks.
    """
    if not amount > 0:
        return
    n = meta[N_CONTRACTS]
    ci[n, SELLER], ci[n, BUYER], ci[n, DAY] = s, b, day
    ci[n, NEXT_OUT], ci[n, NEXT_IN] = head[s, OUT], head[b, IN]
    ci[n, INST], ci[n, BROKER], ci[n, OFFICE] = inst, broker, office
    ci[n, CLOSED], ci[n, CHAIN] = closed, chain
    amt[n] = amount
    head[s, OUT] = n
    head[b, IN] = n
    meta[N_CONTRACTS] = n + 1


@njit(cache=True)
def add_checked(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
                meta: np.ndarray, s: int, b: int, day: int, amount: float, inst: int,
                broker: int, office: int, closed: bool) -> None:
    """:func:`add` for a contract whose check is known only by whether it closed a cycle:
    its relay chain is recomputed (one walk of the seller's recent purchases)."""
    chain = 0
    if amount > 0:
        chain = _relay(ci, amt, head, mark, meta, s, b, day, amount)[1]
    add(ci, amt, head, meta, s, b, day, amount, inst, broker, office, closed, chain + 1)


@njit(cache=True)
def replay_loop(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
                cand_i: np.ndarray, cand_f: np.ndarray, meta: np.ndarray, seller: np.ndarray,
                buyer: np.ndarray, day: np.ndarray, amount: np.ndarray, same: np.ndarray,
                inst: np.ndarray, broker: np.ndarray, office: np.ndarray, slot: np.ndarray,
                window: int, fanout: int, out: np.ndarray) -> None:
    """Check then add each contract in turn; the rows of those with ``slot >= 0`` go to
    ``out[slot]``."""
    row = np.empty(N_COLUMNS)
    for k in range(len(seller)):
        s, b = seller[k], buyer[k]
        check(ci, amt, head, mark, cand_i, cand_f, meta, s, b, day[k], amount[k], same[k],
              inst[k], broker[k], office[k], window, fanout, row)
        if slot[k] >= 0:
            out[slot[k], :] = row
        add(ci, amt, head, meta, s, b, day[k], amount[k], inst[k], broker[k], office[k],
            row[CYCLE_LEN] > 0, int(row[RELAY_CHAIN]) + 1)
