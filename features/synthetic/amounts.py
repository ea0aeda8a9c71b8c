"""Contract amounts: the yearly fit to the published totals, pricing at subsidy thresholds
and the rounding every registered amount goes through.

Honest and planted contracts share every step: a planted amount is fitted like its honest
peers unless its pattern sets it, honest sellers also price just above a subsidy threshold
(legitimately: buyers ask for it), and one rounding process quotes every amount to the fen,
the hundred or the ten thousand. So cents, round figures and threshold closeness are at
most the weak signals they are in real registry data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN
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


def settle_amounts(rng: np.random.Generator, c: pd.DataFrame, spec: MarketSpec) -> None:
    """Fit, price and round ``c["amount"]``; derive ``c["tech_amount"]`` from the share."""
    thresholds = np.asarray(SUBSIDY_THRESHOLDS_YUAN)
    amount = c["amount"].to_numpy().astype(float).copy()
    planted = (c["pattern"] == "threshold").to_numpy()
    amount[planted] = _just_above(
        rng, thresholds[rng.choice(len(thresholds), int(planted.sum()), p=_THRESHOLD_P)])
    year = year_of(c["reg"])
    group = seller_groups(c["seller_kind"].to_numpy())
    for y in np.unique(year):
        t = year_target(int(y), spec.scale)
        acad = t.academic_amount_share
        goal = t.amount_yuan * np.array(
            [t.enterprise_amount_share, acad, 1 - t.enterprise_amount_share - acad])
        for g in range(3):
            rows = (year == y) & (group == g)
            fixed = amount[rows & planted].sum()
            free = amount[rows & ~planted].sum()
            if free > 0:
                amount[rows & ~planted] *= max(goal[g] - fixed, 0.05 * goal[g]) / free
    # Legitimate pricing at a threshold: what sits a little below moves just above it.
    below = np.full(len(amount), -1)
    for i, t in enumerate(thresholds):
        below = np.where((amount >= _PRICE_UP_FROM * t) & (amount < t), i, below)
    move = ~planted & (below >= 0) & (rng.random(len(amount)) < _PRICE_UP_P)
    amount[move] = _just_above(rng, thresholds[below[move]])
    # Real amounts are quoted to the fen, often to the hundred or the ten thousand.
    unit = _UNITS[rng.choice(len(_UNITS), len(amount), p=_UNIT_P)]
    amount = np.maximum(np.round(amount / unit) * unit, 100.0)
    c["amount"] = np.round(amount, 2)
    c["tech_amount"] = np.round(c["amount"] * c["tech_share"], 2)
