"""The held-out shapes: irregular contracts no detection feature was written against.

A review reports recall on these to show what the models catch without having been tuned
for it (see ``held_out`` in :mod:`features.synthetic.patterns`). They are planted like the
others: templates drawn as honest contracts, changed only where the pattern declares.

- ``wash_pair`` (对倒交易): A sells to B, and B sells back to A one to four months later.
- ``slow_ring`` (慢速环形交易): A→B→C→A, two to five months between legs.
- ``newcomer_outsized`` (新主体大额合同): a seller never seen before registers one or two
  outsized contracts and is not seen again.

The ring members come from their own templates (alternately a template's seller and buyer,
as ``long_cycle``'s do), so provinces and party kinds stay close to the honest mix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.synthetic.parties import PartyPicker
from features.synthetic.patterns import LEG_RATIO

# Days between consecutive legs (each leg's amount is declared in the patterns' leg_ratio).
STEP_DAYS: dict[str, tuple[int, int]] = {"wash_pair": (30, 120), "slow_ring": (60, 150)}
# Days over which an event's contracts spread from its first.
SPREAD_DAYS: dict[str, int] = {"newcomer_outsized": 13}
# Patterns whose seller is itself the perpetrator: no other party takes its place.
SHELL_SELLER: tuple[str, ...] = ("newcomer_outsized",)
_OUTSIZED = (3.0, 8.0)  # times the template's amount
_REDRAWS = 10  # attempts at a ring member that is not already in the ring


def distinct_members(rng: np.random.Generator, pick: PartyPicker, members: np.ndarray
                     ) -> np.ndarray:
    """Ring members with repeats redrawn (same kind and province), so every ring closes.

    A busy party can sit in two templates of one event (or be drawn twice); a ring through it
    twice would be a shorter ring, or a contract with itself. Every ring pattern uses this.
    """
    m = members.copy()
    for j in range(1, m.shape[1]):
        for _ in range(_REDRAWS):
            dup = (m[:, :j] == m[:, [j]]).any(axis=1)
            if not dup.any():
                break
            m[dup, j] = pick.draw(rng, pick.kind[m[dup, j]], pick.region[m[dup, j]])
    return m


def _ring(rng: np.random.Generator, c: pd.DataFrame, pick: PartyPicker, name: str,
          seller: np.ndarray, buyer: np.ndarray, amount: np.ndarray) -> None:
    """Close each ``name`` event into a ring, legs passing on a share of the previous amount.

    Member j is template j's seller (j even) or buyer (j odd); leg k goes from member k to
    member k + 1, the last back to the first.
    """
    pat, k, first = c["pattern"].to_numpy(), c["k"].to_numpy(), c["first"].to_numpy()
    rows = np.flatnonzero(pat == name)
    if len(rows) == 0:
        return
    size = int(c["n"].to_numpy()[rows[0]])
    heads = rows[k[rows] == 0]
    member = np.where(k % 2 == 0, seller, buyer)
    ring = distinct_members(rng, pick, np.stack([member[heads + j] for j in range(size)], axis=1))
    ev, kk = np.repeat(np.arange(len(heads)), size), k[rows]
    seller[rows], buyer[rows] = ring[ev, kk], ring[ev, (kk + 1) % size]
    lo, hi = LEG_RATIO[name]
    factor = np.where(kk == 0, 1.0, rng.uniform(lo, hi, len(rows)))
    amount[rows] = amount[first[rows]] * np.cumprod(factor.reshape(-1, size), axis=1).ravel()


def _newcomer(rng: np.random.Generator, c: pd.DataFrame, pick: PartyPicker,
              seller: np.ndarray, amount: np.ndarray) -> None:
    """A fresh seller of the lead template's kind and province signs the event's contracts.

    Amounts are a few times the template's; the technology share stays the template's.
    """
    pat, k, first = c["pattern"].to_numpy(), c["k"].to_numpy(), c["first"].to_numpy()
    rows = np.flatnonzero(pat == "newcomer_outsized")
    heads = rows[k[rows] == 0]
    lead = seller[heads]
    fresh = pick.fresh_sellers(pick.kind[lead], pick.region[lead])
    fresh = np.where(fresh >= 0, fresh, lead)  # a spent reserve keeps the template's seller
    seller[rows] = fresh[np.searchsorted(heads, first[rows])]
    amount[rows] *= rng.uniform(*_OUTSIZED, len(rows))


def shape_held_out(rng: np.random.Generator, c: pd.DataFrame, pick: PartyPicker,
                   seller: np.ndarray, buyer: np.ndarray, amount: np.ndarray) -> None:
    """Apply the held-out patterns' structure to their templates (arrays changed in place)."""
    for name in ("wash_pair", "slow_ring"):
        _ring(rng, c, pick, name, seller, buyer, amount)
    _newcomer(rng, c, pick, seller, amount)
