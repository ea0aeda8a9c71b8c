"""Time-respecting cycles closed by a contract: exact shortest length by meeting in the middle.

A contract s -> b on day T closes a cycle of k + 1 parties when earlier flows form a path
b = x0 -> x1 -> ... -> xk = s with days t1 <= ... <= tk <= T, all after T - window, each leg
within a factor ``CYCLE_AMOUNT_BAND`` of this contract's amount, k = 1..5.

k = 1 is one lookup in b's sales. Longer paths are found by relaxation by hop level from both
ends: forward from b keeping each party's earliest arrival within i legs, backward from s
keeping each party's latest departure that still reaches s within j legs. A path of i + j legs
exists exactly when some party x has arrival_i(x) <= departure_j(x); the earliest arrival and
the latest departure are the best a path can do, so no path is missed. Levels are expanded only
as needed, shortest first (2 = F1 meets B1; 3 = F2/B1 or F1/B2; 4 = F2/B2; 5 = F3/B2: three
forward levels and two backward), so the first meeting gives the shortest cycle. A shortest
time-respecting walk is a simple path (a repeated party's loop can be cut without breaking the
time order), so the party count is exact.

Ratio and span (tie-breaking): the reported cycle is the shortest one made of an earliest-
arrival forward half and a latest-departure backward half; among meeting parties the most even
in amount (smallest over largest leg, this contract included), then the most recent first leg,
then the smaller meeting party code. For 2-party cycles every flow b -> s is considered. The
ratio is therefore that of one shortest cycle, not necessarily the most even shortest cycle.

Backward times are stored negated so both halves use one rule: smaller is better.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from features.point_in_time.flow_walk import (
    B_SLOT,
    B_STAMP,
    CAND_CONTRACT,
    CAND_DAY,
    CAND_PARTY,
    DAY,
    F_SLOT,
    F_STAMP,
    IN,
    NEVER,
    OUT,
    P_DAY,
    P_PARTY,
    Contract,
    Half,
    Limits,
    Store,
    Walk,
    candidates,
    fresh_stamp,
    in_band,
    segment,
)

FORWARD_LEVELS, BACKWARD_LEVELS = 3, 2


def search_scratch(fanout: int) -> tuple[Half, Half]:
    """Slots of both halves of a search (party, time, predecessor slot, leg per level),
    forward then backward, allocated once per graph: a search that allocated them would pay
    for it every check. At most: the start, then fanout new parties per party expanded at
    each level."""
    f = fanout
    rows = {"forward": 1 + f + 2 * f * f + f * f * f, "backward": 1 + f + f * f}
    out: list[Half] = []
    for side, levels in (("forward", FORWARD_LEVELS), ("backward", BACKWARD_LEVELS)):
        n = rows[side]
        t, pred, leg = (np.empty((n, levels + 1), dtype=np.int64) for _ in range(3))
        out.append(Half(np.empty(n, dtype=np.int64), t, pred, leg))
    return out[0], out[1]


@njit(cache=True)
def _level(walk: Walk, half: Half, n: int, level: int, d: int, stamp: int, st_col: int,
           sl_col: int, c: Contract, lim: Limits) -> int:
    """Relax one more hop of the search for ``c`` from the parties of ``half`` (its ``n``
    slots) whose time improved at the previous level: forward (d = OUT) or backward (d = IN),
    the half's parties marked with ``stamp`` in ``mark`` column ``st_col`` and their slot in
    ``sl_col``.

    Column ``level`` of ``t``/``pred``/``leg`` starts as a copy of the previous one, and only
    it is written, so a party's value at level i uses exactly i legs or fewer. Returns the
    new number of slots.
    """
    mark, cand_i = walk.mark, walk.cand_i
    party, t, pred, leg = half
    since = lim.since
    for x in range(n):
        t[x, level] = t[x, level - 1]
        pred[x, level] = pred[x, level - 1]
        leg[x, level] = leg[x, level - 1]
    m = n
    for x in range(n):
        if level >= 2 and t[x, level - 1] == t[x, level - 2]:
            continue  # not improved: its hops were tried at the previous level
        if t[x, level - 1] >= NEVER:
            continue
        if d == OUT:
            lo, hi = max(t[x, level - 1], since + 1), NEVER
        else:
            lo, hi = since + 1, -t[x, level - 1]
        k, _ = candidates(walk, party[x], d, lo, hi, c, lim)
        for j in range(k):
            q = cand_i[j, CAND_PARTY]
            value = cand_i[j, CAND_DAY] if d == OUT else -cand_i[j, CAND_DAY]
            if mark[q, st_col] != stamp:
                mark[q, st_col] = stamp
                mark[q, sl_col] = m
                party[m] = q
                t[m, :] = NEVER
                pred[m, :] = -1
                leg[m, :] = -1
                m += 1
            y = mark[q, sl_col]
            if value < t[y, level]:
                t[y, level] = value
                pred[y, level] = x
                leg[y, level] = cand_i[j, CAND_CONTRACT]
    return m


@njit(cache=True)
def _legs(half: Half, x: int, level: int, out: np.ndarray, k: int) -> int:
    """Append to ``out[k:]`` the contracts of the half-path reaching slot ``x`` at ``level``."""
    t, pred, leg = half.t, half.pred, half.leg
    while x != 0:
        while level > 1 and t[x, level - 1] == t[x, level]:
            level -= 1  # the value was set at a lower level and copied up
        out[k] = leg[x, level]
        k += 1
        x = pred[x, level]
        level -= 1
    return k


@njit(cache=True)
def _meet(ci: np.ndarray, amt: np.ndarray, mark: np.ndarray, halves: tuple[Half, Half],
          nf: int, i: int, j: int, b_stamp: int, amount: float, best: np.ndarray) -> bool:
    """The best cycle joining forward level ``i`` (the first ``nf`` slots of the forward half)
    and backward level ``j`` (the backward half's parties, marked with ``b_stamp``), into
    ``best`` (ratio, first day, meeting party); whether there was one."""
    fw, bw = halves
    fp, ft, bt = fw.party, fw.t, bw.t
    found = False
    legs = np.empty(8, dtype=np.int64)
    for x in range(1, nf):
        q = fp[x]
        if ft[x, i] >= NEVER or mark[q, B_STAMP] != b_stamp:
            continue
        y = mark[q, B_SLOT]
        if bt[y, j] >= NEVER or ft[x, i] > -bt[y, j]:
            continue
        k = _legs(fw, x, i, legs, 0)
        k = _legs(bw, y, j, legs, k)
        lo, hi, first = amount, amount, NEVER
        for r in range(k):
            lo, hi = min(lo, amt[legs[r]]), max(hi, amt[legs[r]])
            first = min(first, ci[legs[r], DAY])
        ratio = lo / hi
        if ratio > best[0] or (
                ratio == best[0] and (first > best[1] or (first == best[1] and q < best[2]))):
            best[0], best[1], best[2] = ratio, first, q
            found = True
    return found


@njit(cache=True)
def shortest_cycle(store: Store, c: Contract, lim: Limits, out: np.ndarray) -> None:
    """Parties on the shortest cycle contract ``c`` (s -> b) closes within ``lim`` (0 when
    none), its ratio and span, into ``out[0:3]`` (ratio and span NaN when none)."""
    ci, amt, mark, meta, halves = store.ci, store.amt, store.mark, store.meta, store.halves
    pool, pamt, seg = store.pool, store.pamt, store.seg
    walk = Walk(pool, pamt, seg, mark, store.cand_i, store.cand_f, meta)
    s, b, day, amount, since = c.seller, c.buyer, c.day, c.amount, lim.since
    out[0], out[1], out[2] = 0.0, np.nan, np.nan
    if s == b:
        return
    best = np.array([-1.0, 0.0, 0.0])
    first, r = segment(seg, b, OUT)  # one earlier leg: a flow b -> s
    r -= 1
    while r >= first and pool[r, P_DAY] > since:
        x = pamt[r]
        if pool[r, P_PARTY] == s and in_band(x, amount):
            ratio = min(x, amount) / max(x, amount)
            if ratio > best[0] or (ratio == best[0] and pool[r, P_DAY] > best[1]):
                best[0], best[1] = ratio, pool[r, P_DAY]
        r -= 1
    if best[0] >= 0:
        out[0], out[1], out[2] = 2.0, best[0], day - best[1]
        return
    fw, bw = halves
    f_stamp, b_stamp = fresh_stamp(meta), fresh_stamp(meta)
    fw.party[0], bw.party[0] = b, s
    fw.t[0, :], bw.t[0, :] = since + 1, -day
    fw.pred[0, :], bw.pred[0, :], fw.leg[0, :], bw.leg[0, :] = -1, -1, -1, -1
    nf = _level(walk, fw, 1, 1, OUT, f_stamp, F_STAMP, F_SLOT, c, lim)
    if nf == 1:
        return
    nb = _level(walk, bw, 1, 1, IN, b_stamp, B_STAMP, B_SLOT, c, lim)
    if nb == 1:
        return
    f_done, b_done = 1, 1
    # earlier legs 2..5 in turn, each as the (forward, backward) level pairs that can make it;
    # the levels a length needs are grown first, then all its pairs are met
    for legs in range(2, 6):
        fi = 3 if legs == 5 else (legs + 1) // 2  # forward levels 1, 2, 2, 3
        if fi > f_done:
            nf = _level(walk, fw, nf, fi, OUT, f_stamp, F_STAMP, F_SLOT, c, lim)
            f_done = fi
        if legs == 3:  # backward level 2 from three legs on
            nb = _level(walk, bw, nb, 2, IN, b_stamp, B_STAMP, B_SLOT, c, lim)
            b_done = 2
        found = False
        for i in range(1, legs):
            j = legs - i
            if i <= f_done and j <= b_done:
                found |= _meet(ci, amt, mark, halves, nf, i, j, b_stamp, amount, best)
        if found:
            out[0], out[1], out[2] = legs + 1.0, best[0], day - best[1]
            return
