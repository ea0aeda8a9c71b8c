"""Running per-party window totals and a pair index, so hubs cost O(1) where walks cost O(degree).

A university with thousands of buyers a year made every count over its flows (its fan-out,
its volume on cycles) a walk of thousands of steps per contract. Instead:

* ``pairs``: an open-addressing hash over numpy arrays, (seller, buyer) -> the pair's latest
  contract. Adding a contract marks the pair's previous contract ``SUPERSEDED``, so "the
  latest flow of each pair" is a flag, and "did p trade with q in the window" one look-up.
* ``agg`` (one row per party and direction): distinct counterparties in the short and the
  full window, and the amounts (cents) in the full window, in total and on cycles; each window
  has a tail pointer to its oldest counted contract. A pair counts while its latest contract is
  in the window. :func:`expire` moves tails forward (amortised O(1): each contract leaves once,
  through the ``NEWER_*`` links) when a contract is added; a check reads the totals through
  :func:`window_totals`, which subtracts the contracts that left since without changing
  anything, so a check never alters the state.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from features.point_in_time.flow_walk import (
    BUYER,
    CLOSED,
    DAY,
    IN,
    NEWER_IN,
    NEWER_OUT,
    OUT,
    P_CONTRACT,
    SELLER,
    SUPERSEDED,
    segment,
)

# agg columns, per direction d at offset AGG_WIDTH * d
TAIL_FULL, TAIL_SHORT, DIST_FULL, DIST_SHORT, TOTAL, CYCLED = range(6)
AGG_WIDTH = 6
EMPTY = -1
_MIX = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def pair_key(s: int, b: int) -> int:
    return (s << 32) | b


@njit(cache=True)
def _slot(keys: np.ndarray, key: int) -> int:
    """The slot holding ``key``, or the empty slot where it would go (linear probing)."""
    mask = len(keys) - 1
    h = np.uint64(key) * _MIX
    i = np.int64((h ^ (h >> np.uint64(29))) & np.uint64(mask))
    while keys[i] != EMPTY and keys[i] != key:
        i = (i + 1) & mask
    return i


@njit(cache=True)
def latest(keys: np.ndarray, vals: np.ndarray, s: int, b: int) -> int:
    """The latest contract s -> b, or -1."""
    i = _slot(keys, pair_key(s, b))
    return vals[i] if keys[i] != EMPTY else -1


@njit(cache=True)
def set_latest(keys: np.ndarray, vals: np.ndarray, s: int, b: int, contract: int) -> None:
    key = pair_key(s, b)
    i = _slot(keys, key)
    keys[i] = key
    vals[i] = contract


@njit(cache=True)
def rehash(keys: np.ndarray, vals: np.ndarray, new_keys: np.ndarray, new_vals: np.ndarray
           ) -> None:
    """Move every entry into the larger (empty) table."""
    for i in range(len(keys)):
        if keys[i] != EMPTY:
            j = _slot(new_keys, keys[i])
            new_keys[j] = keys[i]
            new_vals[j] = vals[i]


@njit(cache=True)
def cents(x: float) -> int:
    """An amount in integer cents, so volume sums are exact in any order."""
    return int(math.floor(x * 100.0 + 0.5))


@njit(cache=True)
def _leaving(ci: np.ndarray, amt: np.ndarray, agg: np.ndarray, p: int, d: int, tail: int,
             since: int, totals: bool) -> tuple[int, int, int, int]:
    """What leaves window ``tail`` of (p, d) when it starts after ``since``: (pairs, cents,
    cycled cents, the new tail)."""
    nxt = NEWER_OUT + d
    t = agg[p, AGG_WIDTH * d + tail]
    pairs = total = cycled = 0
    while t >= 0 and ci[t, DAY] <= since:
        if ci[t, SUPERSEDED] == 0:
            pairs += 1
        if totals:
            c = cents(amt[t])
            total += c
            if ci[t, CLOSED]:
                cycled += c
        t = ci[t, nxt]
    return pairs, total, cycled, t


@njit(cache=True)
def window_totals(ci: np.ndarray, amt: np.ndarray, agg: np.ndarray, p: int, d: int, day: int,
                  window: int, short: int) -> tuple[int, int, int, int]:
    """(distinct counterparties in the short window, in the full window, cents, cycled
    cents) of party p's flows in direction d, on ``day`` (nothing changed)."""
    o = AGG_WIDTH * d
    gone_short = _leaving(ci, amt, agg, p, d, TAIL_SHORT, day - short, False)[0]
    gone, total, cycled, _ = _leaving(ci, amt, agg, p, d, TAIL_FULL, day - window, True)
    return (agg[p, o + DIST_SHORT] - gone_short, agg[p, o + DIST_FULL] - gone,
            agg[p, o + TOTAL] - total, agg[p, o + CYCLED] - cycled)


@njit(cache=True)
def expire(ci: np.ndarray, amt: np.ndarray, agg: np.ndarray, p: int, d: int, day: int,
           window: int, short: int) -> None:
    """Move both windows of (p, d) to ``day``: the totals then count only flows after it."""
    o = AGG_WIDTH * d
    gone, _, _, t = _leaving(ci, amt, agg, p, d, TAIL_SHORT, day - short, False)
    agg[p, o + DIST_SHORT] -= gone
    agg[p, o + TAIL_SHORT] = t
    gone, total, cycled, t = _leaving(ci, amt, agg, p, d, TAIL_FULL, day - window, True)
    agg[p, o + DIST_FULL] -= gone
    agg[p, o + TOTAL] -= total
    agg[p, o + CYCLED] -= cycled
    agg[p, o + TAIL_FULL] = t


@njit(cache=True)
def index_contract(ci: np.ndarray, amt: np.ndarray, pool: np.ndarray, seg: np.ndarray,
                   agg: np.ndarray, keys: np.ndarray, vals: np.ndarray, n: int, window: int,
                   short: int) -> None:
    """Count contract ``n`` (already written, not yet in the segments) in the totals."""
    s, b, day = ci[n, SELLER], ci[n, BUYER], ci[n, DAY]
    for p, d in ((s, OUT), (b, IN)):
        expire(ci, amt, agg, p, d, day, window, short)
        first, end = segment(seg, p, d)
        if end > first:
            ci[pool[end - 1, P_CONTRACT], NEWER_OUT + d] = n
    ci[n, NEWER_OUT], ci[n, NEWER_IN], ci[n, SUPERSEDED] = -1, -1, 0
    j = latest(keys, vals, s, b)
    c = cents(amt[n])
    for p, d in ((s, OUT), (b, IN)):
        o = AGG_WIDTH * d
        if j < 0 or ci[j, DAY] <= day - short:
            agg[p, o + DIST_SHORT] += 1
        if j < 0 or ci[j, DAY] <= day - window:
            agg[p, o + DIST_FULL] += 1
        agg[p, o + TOTAL] += c
        if ci[n, CLOSED]:
            agg[p, o + CYCLED] += c
        for tail in (TAIL_FULL, TAIL_SHORT):
            if agg[p, o + tail] < 0:
                agg[p, o + tail] = n
    if j >= 0:
        ci[j, SUPERSEDED] = 1
    set_latest(keys, vals, s, b, n)
