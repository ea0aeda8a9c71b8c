"""Contract amounts: the yearly fit to the published totals, pricing at subsidy thresholds
and the rounding every registered amount goes through.

Honest and planted contracts share every step: a planted amount is fitted like its honest
peers unless its pattern sets it, honest sellers also price just above a subsidy threshold
(legitimately: buyers ask for it), and one rounding process quotes every amount to the fen,
the hundred or the ten thousand. So cents, round figures and threshold closeness are at
most the weak signals they are in real register data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN
from features.synthetic.patterns import LEG_RATIO
from features.synthetic.published import year_target
from features.synthetic.spec import MarketSpec, year_of

_THRESHOLD_P = np.array([0.6, 0.25, 0.15])  # which threshold a planted amount aims at
# An amount up to this far below a threshold is priced just above it with this chance.
_PRICE_UP_FROM = 0.75
_PRICE_UP_P = 0.25
_UNITS = np.array([0.01, 100.0, 10_000.0])
_UNIT_P = np.array([0.35, 0.5, 0.15])


def seller_groups(kinds: np.ndarray) -> np.ndarray:
    """0 enterprises, 1 universities and research institutes, 2 others (published split)."""
    return np.where(kinds == "enterprise", 0, np.where(kinds == "other", 2, 1))


def _just_above(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    return t * (1 + rng.random(len(t)) * JUST_ABOVE)


def _fit(amount: np.ndarray, year: np.ndarray, group: np.ndarray, fixed: np.ndarray,
         spec: MarketSpec) -> None:
    """Scale the free amounts of each year and seller group to the published total, in place."""
    for y in np.unique(year):
        t = year_target(int(y), spec.scale)
        acad = t.academic_amount_share
        goal = t.amount_yuan * np.array(
            [t.enterprise_amount_share, acad, 1 - t.enterprise_amount_share - acad])
        for g in range(3):
            rows = (year == y) & (group == g)
            held = amount[rows & fixed].sum()
            free = amount[rows & ~fixed].sum()
            if free > 0:
                amount[rows & ~fixed] *= max(goal[g] - held, 0.05 * goal[g]) / free


def _legs(c: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, previous leg's row, leg number) of every leg after the first of a chained event.

    A chained pattern sets each leg's amount from the previous one's (``LEG_RATIO``); legs
    are told apart by their days, which the pattern spaces weeks apart.
    """
    rows = np.flatnonzero(c["pattern"].isin(list(LEG_RATIO)).to_numpy())
    order = np.lexsort((c["reg"].to_numpy()[rows], c["event_id"].to_numpy()[rows]))
    rows = rows[order]
    leg = pd.Series(c["event_id"].to_numpy()[rows]).groupby(
        c["event_id"].to_numpy()[rows]).cumcount().to_numpy()
    later = leg > 0
    return rows[later], rows[np.flatnonzero(later) - 1], leg[later]


def _follow(amount: np.ndarray, ratio: np.ndarray, legs: tuple[np.ndarray, ...]) -> None:
    """Each later leg at its ratio of the previous leg, leg by leg, in place."""
    row, prev, leg = legs
    for k in np.unique(leg):
        at = leg == k
        amount[row[at]] = amount[prev[at]] * ratio[at]


def _round_legs(amount: np.ndarray, ratio: np.ndarray, bounds: tuple[np.ndarray, np.ndarray],
                legs: tuple[np.ndarray, ...]) -> None:
    """Keep each later leg within its declared share of the previous one after rounding.

    A leg quoted in round ten-thousands can land outside the share; it is then quoted to
    the hundred, and failing that to the fen, as real amounts are.
    """
    row, prev, leg = legs
    lo, hi = bounds
    for k in np.unique(leg):
        at = np.flatnonzero(leg == k)
        base = amount[prev[at]]
        for unit in (100.0, 0.01):
            r = amount[row[at]] / base
            out = at[(r < lo[at]) | (r > hi[at])]
            if len(out) == 0:
                break
            amount[row[out]] = np.round(amount[prev[out]] * ratio[out] / unit) * unit
        floor = np.ceil(np.round(base * lo[at] * 100, 6)) / 100
        ceil = np.floor(np.round(base * hi[at] * 100, 6)) / 100
        amount[row[at]] = np.clip(amount[row[at]], floor, ceil)


def settle_amounts(rng: np.random.Generator, c: pd.DataFrame, spec: MarketSpec) -> None:
    """Fit, price and round ``c["amount"]``; derive ``c["tech_amount"]`` from the share.

    A chained event's later legs keep their drawn share of the previous leg through the fit
    (whose factor differs by year and seller kind), the pricing and the rounding; the other
    amounts of their year and kind absorb the difference.
    """
    thresholds = np.asarray(SUBSIDY_THRESHOLDS_YUAN)
    amount = c["amount"].to_numpy().astype(float).copy()
    legs = _legs(c)
    ratio = amount[legs[0]] / amount[legs[1]]
    planted = (c["pattern"] == "threshold").to_numpy()
    amount[planted] = _just_above(
        rng, thresholds[rng.choice(len(thresholds), int(planted.sum()), p=_THRESHOLD_P)])
    year = year_of(c["reg"])
    group = seller_groups(c["seller_kind"].to_numpy())
    _fit(amount, year, group, planted, spec)
    if len(legs[0]):
        _follow(amount, ratio, legs)
        chained = c["pattern"].isin(list(LEG_RATIO)).to_numpy()
        _fit(amount, year, group, planted | chained, spec)
    follower = np.zeros(len(amount), dtype=bool)
    follower[legs[0]] = True
    # Legitimate pricing at a threshold: what sits a little below moves just above it.
    below = np.full(len(amount), -1)
    for i, t in enumerate(thresholds):
        below = np.where((amount >= _PRICE_UP_FROM * t) & (amount < t), i, below)
    move = ~planted & ~follower & (below >= 0) & (rng.random(len(amount)) < _PRICE_UP_P)
    amount[move] = _just_above(rng, thresholds[below[move]])
    _follow(amount, ratio, legs)  # a first leg priced up takes the later ones along
    # Real amounts are quoted to the fen, often to the hundred or the ten thousand.
    unit = _UNITS[rng.choice(len(_UNITS), len(amount), p=_UNIT_P)]
    amount = np.maximum(np.round(amount / unit) * unit, 100.0)
    bounds = c["pattern"].to_numpy()[legs[0]]
    lo = np.array([LEG_RATIO[p][0] for p in bounds])
    hi = np.array([LEG_RATIO[p][1] for p in bounds])
    _round_legs(amount, ratio, (lo, hi), legs)
    c["amount"] = np.round(amount, 2)
    c["tech_amount"] = np.round(c["amount"] * c["tech_share"], 2)
