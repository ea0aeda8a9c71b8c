"""Who commits each planted event: the dishonest actor that takes a template's place.

A template keeps its shape: where it was facilitated, an institution of the same province
takes the institution's place (and one of *its own* brokers the broker's); where it was not,
a dishonest party of the same kind and province takes the lead seller's place. Candidates
must be alive on every day of the event, by the exact date, as for honest contracts; the
choice leans heavily on the dishonest past their onset, which is the only thing that sets
the perpetrators apart, and it stays hidden.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.synthetic.actors import Actors, PartyPicker
from features.synthetic.held_out import SHELL_SELLER
from features.synthetic.spec import year_of


def _choose(pool: np.ndarray, w: np.ndarray, u: float) -> int:
    """One element of ``pool`` with probability proportional to ``w`` (−1 if none weighs)."""
    total = w.sum()
    if len(pool) == 0 or total <= 0:
        return -1
    return int(pool[min(np.searchsorted(np.cumsum(w), u * total, side="right"), len(pool) - 1)])


def _lean(actors: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dishonest, onset year, 1.2 − integrity) as arrays, read once for the loops."""
    return (actors["dishonest"].to_numpy(), actors["onset_year"].to_numpy(),
            1.2 - actors["integrity"].to_numpy())


def _weights(lean: tuple[np.ndarray, np.ndarray, np.ndarray], pool: np.ndarray, year: int,
             bad: float, good: float) -> np.ndarray:
    """Candidates' weights: the dishonest past their onset lean ``bad / good`` times more."""
    dishonest, onset, room = (a[pool] for a in lean)
    return np.where(dishonest & (onset <= year), bad, good) * room


def _year(day: np.datetime64) -> int:
    return int(day.astype("datetime64[Y]").astype(int)) + 1970


def _party_leads(rng: np.random.Generator, c: pd.DataFrame, pick: PartyPicker) -> None:
    """An unfacilitated event's lead seller becomes a dishonest party of its kind and province.

    A shell seller is its own perpetrator and stays; a party already trading in the event
    does not take the lead's place too, which would close a ring early or sell to itself.
    """
    eid = c["event_id"].to_numpy()
    heads = np.flatnonzero(c["k"].to_numpy() == 0)
    plain = (c["inst_idx"].to_numpy()[heads] < 0) & (c["broker_idx"].to_numpy()[heads] < 0)
    plain &= ~np.isin(c["pattern"].to_numpy()[heads], SHELL_SELLER)
    seller, buyer = c["seller_idx"].to_numpy().copy(), c["buyer_idx"].to_numpy().copy()
    lead = seller[heads]
    years = year_of(c["reg"].iloc[heads])
    new = np.where(plain, pick.dishonest(rng, pick.kind[lead], pick.region[lead], years), -1)
    cand, was = new[eid], lead[eid]
    there = ((seller == cand) & (seller != was)) | ((buyer == cand) & (buyer != was))
    new[np.unique(eid[(cand >= 0) & there])] = -1
    swap = new[eid] >= 0
    s_hit, b_hit = swap & (seller == lead[eid]), swap & (buyer == lead[eid])
    seller[s_hit], buyer[b_hit] = new[eid[s_hit]], new[eid[b_hit]]
    c["seller_idx"], c["buyer_idx"] = seller, buyer


def assign_perpetrators(rng: np.random.Generator, c: pd.DataFrame, actors: Actors,
                        pick: PartyPicker) -> None:
    """Replace the template's actors by the event's perpetrators, in place."""
    _party_leads(rng, c, pick)
    inst, brk = actors.institutions, actors.brokers
    reg = c["reg"].to_numpy()
    seller_region = pick.region[c["seller_idx"].to_numpy()]
    inst_idx, broker_idx = c["inst_idx"].to_numpy().copy(), c["broker_idx"].to_numpy().copy()
    eid = c["event_id"].to_numpy()

    i_region = inst["region_idx"].to_numpy()
    founded, until = inst["founded_date"].to_numpy(), inst["active_until"].to_numpy()
    b_inst, cert = brk["inst_idx"].to_numpy(), brk["certified_date"].to_numpy()
    order = np.argsort(b_inst, kind="stable")
    lo = np.searchsorted(b_inst[order], np.arange(len(inst)))
    hi = np.searchsorted(b_inst[order], np.arange(len(inst)), side="right")
    first_cert = np.full(len(inst), np.datetime64("2200-01-01"), dtype="datetime64[D]")
    has = hi > lo
    first_cert[has] = np.minimum.reduceat(cert[order], lo[has]) if has.any() else first_cert[has]
    lone = np.flatnonzero(b_inst < 0)
    by_region = {r: np.flatnonzero(i_region == r) for r in np.unique(i_region)}
    i_lean, b_lean = _lean(inst), _lean(brk)

    facilitated = inst_idx >= 0
    # A broker's burst is one broker's, even where a seller had to come from elsewhere.
    burst = c["pattern"].to_numpy() == "broker_spike"
    region = np.where(burst, seller_region[c["first"].to_numpy()], seller_region)
    key = eid.astype(np.int64) * 64 + region
    groups = pd.Series(np.arange(len(c)))[facilitated].groupby(key[facilitated]).indices
    lone_rows = pd.Series(np.arange(len(c)))[(broker_idx >= 0) & ~facilitated]
    groups_lone = lone_rows.groupby(eid[lone_rows.to_numpy()]).indices
    u = rng.random((len(groups), 2))
    lone_late: list[np.ndarray] = []
    fac_rows = np.flatnonzero(facilitated)
    for j, rows_pos in enumerate(groups.values()):
        rows = fac_rows[rows_pos]
        g_min, g_max = reg[rows].min(), reg[rows].max()
        y = _year(g_min)
        # As for honest contracts: the seller's province, or anywhere if it has none alive.
        pool = by_region.get(int(region[rows[0]]), np.arange(0))
        pool = pool[(founded[pool] <= g_min) & (until[pool] >= g_max)]
        if len(pool) == 0:
            pool = np.flatnonzero((founded <= g_min) & (until >= g_max))
        brokered = rows[broker_idx[rows] >= 0]
        if len(brokered) and not (first_cert[pool] <= g_min).any():
            # No institution here has a broker yet: an unaffiliated broker serves instead.
            inst_idx[rows] = -1
            lone_late.append(rows)
            continue
        if len(brokered):
            pool = pool[first_cert[pool] <= g_min]
        chosen = _choose(pool, _weights(i_lean, pool, y, 30.0, 0.3), u[j, 0])
        inst_idx[rows] = chosen
        if len(brokered):
            b_pool = order[lo[chosen]:hi[chosen]] if chosen >= 0 else np.arange(0)
            b_pool = b_pool[cert[b_pool] <= g_min]
            broker_idx[brokered] = _choose(b_pool, _weights(b_lean, b_pool, y, 20.0, 0.5),
                                           u[j, 1])
    lone_groups = [lone_rows.to_numpy()[g] for g in groups_lone.values()] + lone_late
    u_lone = rng.random(len(lone_groups))
    for g, rows in enumerate(lone_groups):
        g_min = reg[rows].min()
        b_pool = lone[cert[lone] <= g_min]
        broker_idx[rows] = _choose(b_pool, _weights(b_lean, b_pool, _year(g_min), 20.0, 0.5),
                                   u_lone[g])
    c["inst_idx"], c["broker_idx"] = inst_idx, broker_idx
