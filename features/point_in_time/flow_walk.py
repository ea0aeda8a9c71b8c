"""The flow store's layout and its one primitive: walking a party's flows, newest first.

The store is plain numpy arrays so that it pickles in seconds and compiled code reads it
directly (:class:`features.point_in_time.contract_graph.FlowGraph` owns them):

* ``ci`` (int32, one row per contract, in registration order): the columns below. Two of
  them link each contract to the previous contract of the same seller (``NEXT_OUT``) and of
  the same buyer (``NEXT_IN``), so ``head[p, OUT]`` starts a list of p's sales and
  ``head[p, IN]`` of its purchases, newest first. Registration days only grow, so a walk
  from the head stops at the first flow older than the window: it costs the party's flows
  in the window, never its whole history. The store is append-only; counts that would walk
  a hub's flows are kept as running totals instead (:mod:`features.point_in_time.flow_index`).
* ``amt`` (float64): each contract's amount.
* ``mark`` (int64, one row per party): scratch for the searches. A column pair holds a
  stamp and a slot; a value counts only when its stamp is the current one, so a search
  never clears what the previous one left (a fresh stamp is one increment of ``meta``).
* ``cand_i`` / ``cand_f``: scratch rows of the distinct counterparties one walk found.
* ``meta`` (int64): the number of contracts and the last stamp.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from features.point_in_time.catalogue import CYCLE_AMOUNT_BAND

# contract columns of ``ci`` (the NEWER_* links and SUPERSEDED serve
# :mod:`features.point_in_time.flow_index`)
(SELLER, BUYER, DAY, NEXT_OUT, NEXT_IN, NEWER_OUT, NEWER_IN, SUPERSEDED, INST, BROKER, OFFICE,
 CLOSED, CHAIN) = range(13)
N_FIELDS = 13
# head columns, and the direction of a walk: OUT walks p's sales, IN its purchases
OUT, IN = 0, 1
# mark columns: F forward cycle half, B backward half, C one walk's candidates, D and E sets
F_STAMP, F_SLOT, B_STAMP, B_SLOT, C_STAMP, C_SLOT, D_STAMP, E_STAMP = range(8)
N_MARKS = 8
# meta entries
N_CONTRACTS, STAMP = 0, 1
# candidate columns of ``cand_i``: counterparty, the day a search keeps, that contract
CAND_PARTY, CAND_DAY, CAND_CONTRACT = range(3)
NEVER = np.int64(1) << 40  # a day no flow has, later than all


@njit(cache=True)
def fresh_stamp(meta: np.ndarray) -> int:
    """A stamp no mark holds yet."""
    meta[STAMP] += 1
    return meta[STAMP]


@njit(cache=True)
def in_band(x: float, amount: float) -> bool:
    """Whether a leg's amount lies within a factor CYCLE_AMOUNT_BAND of the contract's."""
    return amount / CYCLE_AMOUNT_BAND <= x <= amount * CYCLE_AMOUNT_BAND


@njit(cache=True)
def counterparty_col(d: int) -> int:
    """The column holding the other party of a flow walked in direction ``d``."""
    return BUYER if d == OUT else SELLER


@njit(cache=True)
def candidates(ci: np.ndarray, amt: np.ndarray, head: np.ndarray, mark: np.ndarray,
               cand_i: np.ndarray, cand_f: np.ndarray, meta: np.ndarray, p: int, d: int,
               lo_day: int, hi_day: int, amount: float, s: int, b: int, fanout: int
               ) -> tuple[int, int]:
    """The distinct counterparties a search steps to from ``p``, and how many there were.

    Flows walked: p's flows in direction ``d`` with a day in ``[lo_day, hi_day]`` (the caller
    puts the window's edge in ``lo_day``) and an amount in the cycle band, to a party other
    than ``s`` and ``b``. For each counterparty the earliest such day is kept when walking
    sales (a forward search arrives as early as it can) and the latest when walking purchases
    (a backward search leaves as late as it can), with that contract, and its amount
    distance ``|ln x - ln amount|`` over all its flows.

    Hub cap: when more than ``fanout`` counterparties qualify, the ``fanout`` closest in
    amount are moved to the front, ties to the smaller party code. A counterparty counts once
    however many flows it has, so repeat flows never crowd out another counterparty.
    Returns (how many to follow, how many qualified).
    """
    stamp = fresh_stamp(meta)
    la = math.log(amount)
    col = counterparty_col(d)
    nxt = NEXT_OUT + d
    k = 0
    i = head[p, d]
    while i >= 0:
        day = ci[i, DAY]
        if day < lo_day:
            break
        x = amt[i]
        if day <= hi_day and in_band(x, amount):
            q = ci[i, col]
            if q != s and q != b:
                dist = abs(math.log(x) - la)
                if mark[q, C_STAMP] != stamp:
                    mark[q, C_STAMP] = stamp
                    mark[q, C_SLOT] = k
                    cand_i[k, CAND_PARTY] = q
                    cand_i[k, CAND_DAY] = day
                    cand_i[k, CAND_CONTRACT] = i
                    cand_f[k] = dist
                    k += 1
                else:
                    j = mark[q, C_SLOT]
                    if d == OUT:  # newest first: this flow is no later than the kept one
                        cand_i[j, CAND_DAY] = day
                        cand_i[j, CAND_CONTRACT] = i
                    if dist < cand_f[j]:
                        cand_f[j] = dist
        i = ci[i, nxt]
    if k <= fanout:
        return k, k
    for r in range(fanout):  # partial selection: fanout is small, hubs are rare
        m = r
        for j in range(r + 1, k):
            if cand_f[j] < cand_f[m] or (cand_f[j] == cand_f[m]
                                         and cand_i[j, CAND_PARTY] < cand_i[m, CAND_PARTY]):
                m = j
        if m != r:
            for c in range(3):
                cand_i[r, c], cand_i[m, c] = cand_i[m, c], cand_i[r, c]
            cand_f[r], cand_f[m] = cand_f[m], cand_f[r]
    return fanout, k
