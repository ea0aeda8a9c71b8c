"""The flow store's layout and its one primitive: walking a party's flows, newest first.

The store is plain numpy arrays so that it pickles in seconds and compiled code reads it
directly (:class:`features.point_in_time.contract_graph.FlowGraph` owns them):

* ``ci`` (int32, one row per contract, in registration order): seller, buyer, day, flags, and
  the links of :mod:`features.point_in_time.flow_index`.
* ``pool`` / ``pamt``: each party's flows in each direction as one contiguous segment of
  rows (contract, day, counterparty, institution, broker, office) and amounts, in
  registration order; ``seg[p, 3 * d:3 * d + 3]`` is (start, length, capacity) of p's sales
  (d = OUT) or purchases (d = IN). A walk reads the segment backwards, newest first, and stops
  at the first flow older than the window: sequential reads of the party's window only, where
  a linked list would miss the cache at every step. A full segment moves to the pool's end
  at twice the size (the caller has made room: ``FlowGraph.reserve``).
* ``mark`` (int64, one row per party): scratch for the searches. A column holds a stamp (and
  a slot); a value counts only when its stamp is the current one, so a search never clears
  what the previous one left (a fresh stamp is one increment of ``meta``).
* ``cand_i`` / ``cand_f``: scratch rows of the distinct counterparties one walk found.
* ``meta`` (int64): the number of contracts, the last stamp, the pool rows in use.
* ``halves``: the slots of both halves of a cycle search
  (:mod:`features.point_in_time.flow_cycles`), one :class:`Half` each.

The kernels take these arrays as named tuples, which compiled code reads field by field as
if they were separate arguments: :class:`Store` (all of them) where a check or an addition
starts, :class:`Walk` (what a search step reads and writes) in the searches and a
:class:`Half` for each half of a cycle search; the contract being checked and the search's
limits travel as a :class:`Contract` and :class:`Limits`.
Compiled code counts a reference to every array a kernel holds across a call to another
kernel, so a kernel that calls others is handed only the group it uses: the whole store
handed down through the searches made the replay about 5 % slower. Python hands the store
and a contract over as plain tuples (:func:`as_store`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from features.point_in_time.catalogue import CYCLE_AMOUNT_BAND

# contract columns of ``ci`` (NEWER_*, SUPERSEDED: see flow_index)
SELLER, BUYER, DAY, NEWER_OUT, NEWER_IN, SUPERSEDED, CLOSED, CHAIN = range(8)
N_FIELDS = 8
# pool columns
P_CONTRACT, P_DAY, P_PARTY, P_INST, P_BROKER, P_OFFICE = range(6)
N_POOL = 6
# directions: OUT walks p's sales, IN its purchases; seg columns at 3 * d
OUT, IN = 0, 1
SEG_START, SEG_LEN, SEG_CAP = range(3)
MIN_SEGMENT = 4
# mark columns: F forward cycle half, B backward half, C one walk's candidates, D and E sets
F_STAMP, F_SLOT, B_STAMP, B_SLOT, C_STAMP, C_SLOT, D_STAMP, E_STAMP = range(8)
N_MARKS = 8
# meta entries
N_CONTRACTS, STAMP, POOL_USED = range(3)
# candidate columns of ``cand_i``: counterparty, the day a search keeps, that contract
CAND_PARTY, CAND_DAY, CAND_CONTRACT = range(3)
NEVER = np.int64(1) << 40  # a day no flow has, later than all


class Half(NamedTuple):
    """One half of a cycle search (:mod:`features.point_in_time.flow_cycles`), a slot per
    party reached: the party, and per hop level its best time, predecessor slot and the
    contract of the leg."""

    party: np.ndarray  # int64, slot -> party
    t: np.ndarray  # int64 (slot, level)
    pred: np.ndarray  # int64 (slot, level)
    leg: np.ndarray  # int64 (slot, level)


class Store(NamedTuple):
    """The arrays of a :class:`~features.point_in_time.contract_graph.FlowGraph` (see the
    module docstring; ``agg``, ``keys``, ``vals``: the running totals and the pair index of
    :mod:`features.point_in_time.flow_index`)."""

    ci: np.ndarray
    amt: np.ndarray
    pool: np.ndarray
    pamt: np.ndarray
    seg: np.ndarray
    agg: np.ndarray
    keys: np.ndarray  # the pair index: keys
    vals: np.ndarray  # the pair index: each pair's latest contract
    mark: np.ndarray  # scratch from here on
    cand_i: np.ndarray
    cand_f: np.ndarray
    meta: np.ndarray
    halves: tuple[Half, Half]  # forward, backward


class Walk(NamedTuple):
    """The store's arrays one step of a search reads and writes (:func:`candidates`): the
    flows, and the scratch it stamps and fills."""

    pool: np.ndarray
    pamt: np.ndarray
    seg: np.ndarray
    mark: np.ndarray
    cand_i: np.ndarray
    cand_f: np.ndarray
    meta: np.ndarray


class Contract(NamedTuple):
    """The contract seller -> buyer being checked or added (parties and the rest as codes,
    -1 when unknown)."""

    seller: int
    buyer: int
    day: int
    amount: float
    inst: int
    broker: int
    office: int


class Limits(NamedTuple):
    """How far a check looks: flows on days after ``since`` (its day - ``window``), and at
    most ``fanout`` counterparties per search step."""

    since: int
    window: int
    fanout: int


# a Store's fields as a plain tuple, each half a plain tuple of its arrays
StoreArrays = tuple[Any, ...]


@njit(cache=True)
def as_store(arrays: StoreArrays) -> Store:
    """The :class:`Store` of ``arrays``: how Python hands the store over. Numba's dispatcher
    types a plain tuple of arrays itself but a named tuple by calling back into Python, about
    2.5 µs for the store and 0.7 µs for a contract per call: 12 % of the online state's
    latency, which calls the kernels three times a contract."""
    ci, amt, pool, pamt, seg, agg, keys, vals, mark, cand_i, cand_f, meta, (fw, bw) = arrays
    return Store(ci, amt, pool, pamt, seg, agg, keys, vals, mark, cand_i, cand_f, meta,
                 (Half(*fw), Half(*bw)))


@njit(cache=True)
def segment(seg: np.ndarray, p: int, d: int) -> tuple[int, int]:
    """(first row, one past the last row) of p's flows in direction d."""
    start = seg[p, 3 * d + SEG_START]
    return start, start + seg[p, 3 * d + SEG_LEN]


@njit(cache=True)
def append(pool: np.ndarray, pamt: np.ndarray, seg: np.ndarray, meta: np.ndarray, d: int,
           contract: int, c: Contract) -> None:
    """Append contract number ``contract`` (``c``) as a flow to its seller's segment of sales
    (d = OUT) or its buyer's of purchases (d = IN), moving the segment to the pool's end at
    twice the size if full."""
    p, q = (c.seller, c.buyer) if d == OUT else (c.buyer, c.seller)
    day, inst, broker, office, amount = c.day, c.inst, c.broker, c.office, c.amount
    o = 3 * d
    start, length, cap = seg[p, o + SEG_START], seg[p, o + SEG_LEN], seg[p, o + SEG_CAP]
    if length == cap:
        new = meta[POOL_USED]
        pool[new:new + length] = pool[start:start + length]
        pamt[new:new + length] = pamt[start:start + length]
        start = new
        seg[p, o + SEG_START] = new
        seg[p, o + SEG_CAP] = max(MIN_SEGMENT, 2 * cap)
        meta[POOL_USED] = new + seg[p, o + SEG_CAP]
    k = start + length
    pool[k, P_CONTRACT], pool[k, P_DAY], pool[k, P_PARTY] = contract, day, q
    pool[k, P_INST], pool[k, P_BROKER], pool[k, P_OFFICE] = inst, broker, office
    pamt[k] = amount
    seg[p, o + SEG_LEN] = length + 1


@njit(cache=True)
def compact(pool: np.ndarray, pamt: np.ndarray, seg: np.ndarray, new_pool: np.ndarray,
            new_pamt: np.ndarray) -> int:
    """Copy every segment into the new pool, tightly (room for one more flow each); returns
    the rows used."""
    used = 0
    for p in range(len(seg)):
        for d in (OUT, IN):
            o = 3 * d
            start, length = seg[p, o + SEG_START], seg[p, o + SEG_LEN]
            if seg[p, o + SEG_CAP] == 0:
                continue
            cap = max(MIN_SEGMENT, length + 1)
            new_pool[used:used + length] = pool[start:start + length]
            new_pamt[used:used + length] = pamt[start:start + length]
            seg[p, o + SEG_START], seg[p, o + SEG_CAP] = used, cap
            used += cap
    return used


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
def candidates(walk: Walk, p: int, d: int, lo_day: int, hi_day: int, c: Contract,
               lim: Limits) -> tuple[int, int]:
    """The distinct counterparties a search for contract ``c`` steps to from ``p``, and how
    many there were, into ``walk.cand_i`` / ``walk.cand_f``.

    Flows walked: p's flows in direction ``d`` with a day in ``[lo_day, hi_day]`` (the caller
    puts the window's edge in ``lo_day``) and an amount in the cycle band of ``c``, to a party
    other than its seller and buyer. For each counterparty the earliest such day is kept when
    walking sales (a forward search arrives as early as it can) and the latest when walking
    purchases (a backward search leaves as late as it can), with that contract, and its
    amount distance ``|ln x - ln amount|`` over all its flows (``amount``: the contract's).

    Hub cap: when more than ``lim.fanout`` counterparties qualify, the ``fanout`` closest in
    amount are moved to the front, ties to the smaller party code. A counterparty counts once
    however many flows it has, so repeat flows never crowd out another counterparty.
    Returns (how many to follow, how many qualified).
    """
    pool, pamt, seg, mark, cand_i, cand_f, meta = walk
    amount, s, b, fanout = c.amount, c.seller, c.buyer, lim.fanout
    stamp = fresh_stamp(meta)
    la = math.log(amount)
    k = 0
    first, r = segment(seg, p, d)
    r -= 1
    while r >= first:
        day = pool[r, P_DAY]
        if day < lo_day:
            break
        x = pamt[r]
        if day <= hi_day and in_band(x, amount):
            q = pool[r, P_PARTY]
            if q != s and q != b:
                dist = abs(math.log(x) - la)
                if mark[q, C_STAMP] != stamp:
                    mark[q, C_STAMP] = stamp
                    mark[q, C_SLOT] = k
                    cand_i[k, CAND_PARTY] = q
                    cand_i[k, CAND_DAY] = day
                    cand_i[k, CAND_CONTRACT] = pool[r, P_CONTRACT]
                    cand_f[k] = dist
                    k += 1
                else:
                    j = mark[q, C_SLOT]
                    if d == OUT:  # newest first: this flow is no later than the kept one
                        cand_i[j, CAND_DAY] = day
                        cand_i[j, CAND_CONTRACT] = pool[r, P_CONTRACT]
                    if dist < cand_f[j]:
                        cand_f[j] = dist
        r -= 1
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
