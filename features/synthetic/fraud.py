"""Irregular contracts of the synthetic market, planted so that only their pattern shows.

Every irregular contract starts as an honest one: a *template* drawn by the very process that
draws the honest bulk (seller, buyer, type, field, day, amount, institution, broker). Templates
are then grouped into events, and each pattern changes only what its signature declares in
:mod:`features.synthetic.patterns` — the structure (same pair and day, rings, a broker's
burst, buyers seen nowhere else) and, for some, the amount. The held-out shapes live in
:mod:`features.synthetic.held_out`. Who committed the event is chosen among the actors the
template already had a place for (:mod:`features.synthetic.perpetrators`): a dishonest
institution or broker of the same province where the template was facilitated, a dishonest
party of the same kind and province where it was not (a newcomer's shell seller is its own).
So the facilitation shares, party kinds, contract types, provinces, fields and dates of
irregular contracts follow the honest ones, and the irregular share stays steady as the
market grows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from features.synthetic.actors import Actors, PartyPicker
from features.synthetic.held_out import (
    SPREAD_DAYS,
    STEP_DAYS,
    distinct_members,
    shape_held_out,
)
from features.synthetic.patterns import DETECTION_P, LEG_RATIO, PATTERN_SPECS
from features.synthetic.perpetrators import assign_perpetrators
from features.synthetic.published import year_target
from features.synthetic.spec import MarketSpec

IRREGULAR_SHARE = 0.02  # of each year's registrations
_MONTH_P = np.array([5, 5, 7, 7, 7, 8, 8, 8, 8, 8, 10, 19], dtype=float)
MONTH_P = _MONTH_P / _MONTH_P.sum()
# Share of contracts whose whole amount is technology, per contract type; the rest draw the
# technology part from Beta(9, 1.5) (mean 86 %).
_FULL_TECH_P = {"development": 0.35, "transfer": 0.6, "licensing": 0.6, "consulting": 0.3,
                "service": 0.2}
# Days between an event's contracts: the offset of each member from the first.
_STEP_DAYS = {"circular": (0, 10), "long_cycle": (21, 63), **STEP_DAYS}
_SPREAD_DAYS = {"broker_spike": 27, "phantom_buyer": 20, **SPREAD_DAYS}

Templates = Callable[[int, int], pd.DataFrame]


def tech_share(rng: np.random.Generator, contract_type: np.ndarray) -> np.ndarray:
    """Technology-transaction share of each contract's amount (技术交易额 / 合同成交额)."""
    full_p = pd.Series(_FULL_TECH_P)[contract_type].to_numpy()
    return np.where(rng.random(len(contract_type)) < full_p, 1.0,
                    rng.beta(9, 1.5, len(contract_type)))


def random_days(rng: np.random.Generator, years: np.ndarray, month_p: np.ndarray = MONTH_P
                ) -> np.ndarray:
    """Registration days within each year, with the year-end peak of the real register."""
    months = rng.choice(12, len(years), p=month_p)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + months
    days_in_month = (
        (start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")
    ).astype(int)
    return start.astype("datetime64[D]") + (rng.random(len(years)) * days_in_month).astype(
        "timedelta64[D]")


def _events(rng: np.random.Generator, target: float, skip: tuple[str, ...] = ()
            ) -> tuple[np.ndarray, np.ndarray]:
    """(pattern, size) of each event so that the year's irregular contracts meet ``target``.

    Patterns in ``skip`` are left out and the others' shares scaled up to fill their place.
    """
    pats, sizes = [], []
    specs = [p for p in PATTERN_SPECS if p.name not in skip]
    total = sum(p.share for p in specs)
    for p in specs:
        lo, hi = p.size
        # Stochastic rounding, not Poisson: a year's irregular share stays close to target.
        x = target * p.share / total / ((lo + hi) / 2)
        k = int(x) + int(rng.random() < x - int(x))
        pats.append(np.full(k, p.name, dtype=object))
        sizes.append(rng.integers(lo, hi + 1, k))
    pats_all, sizes_all = np.concatenate(pats), np.concatenate(sizes)
    order = rng.permutation(len(pats_all))
    return pats_all[order], sizes_all[order]


def _order_templates(rng: np.random.Generator, t: pd.DataFrame, pats: np.ndarray,
                     sizes: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Templates in event order: a burst takes brokered templates, the rest take the others.

    Every template is used once, so irregular contracts keep the honest share of brokered,
    facilitated and plain contracts; bursts that find too few brokered templates (the early
    years have few brokers) give way to events of the other patterns, so that the year's
    irregular share holds.
    """
    brokered = np.flatnonzero(t["broker_idx"].to_numpy() >= 0)
    spike = pats == "broker_spike"
    keep = ~spike | (np.cumsum(np.where(spike, sizes, 0)) <= len(brokered))
    deficit = int(sizes[~keep].sum())
    pats, sizes = pats[keep], sizes[keep]
    if deficit:
        more_pats, more_sizes = _events(rng, deficit, skip=("broker_spike",))
        fits = np.cumsum(more_sizes) <= deficit
        pats = np.concatenate([pats, more_pats[fits]])
        sizes = np.concatenate([sizes, more_sizes[fits]])
    spike = pats == "broker_spike"
    n_spike = int(sizes[spike].sum())
    rest = np.setdiff1d(np.arange(len(t)), brokered[:n_spike])
    rest = rest[rng.permutation(len(rest))]
    rows = np.empty(int(sizes.sum()), dtype=np.int64)
    slot = np.repeat(spike, sizes)
    rows[slot] = brokered[:n_spike]
    rows[~slot] = rest[: int((~slot).sum())]
    return t.iloc[rows].reset_index(drop=True), pats, sizes


def _shape(rng: np.random.Generator, c: pd.DataFrame, pick: PartyPicker,
           spec: MarketSpec) -> None:
    """Apply each pattern's declared structure to its templates, in place."""
    pat = c["pattern"].to_numpy()
    k, first = c["k"].to_numpy(), c["first"].to_numpy()
    n = c["n"].to_numpy()
    m = len(c)
    seller, buyer = c["seller_idx"].to_numpy().copy(), c["buyer_idx"].to_numpy().copy()
    region = pick.region[seller]
    amount = c["amount"].to_numpy().copy()
    same = pat == "split"
    for col in ("contract_type", "tech_field_idx", "inst_idx", "broker_idx"):
        c.loc[same, col] = c[col].to_numpy()[first[same]]
    seller[same], buyer[same] = seller[first[same]], buyer[first[same]]
    amount[same] = amount[first[same]] * rng.uniform(0.97, 1.03, int(same.sum()))

    # A ring of three in the first seller's province: the lead, a buyer-like and a seller-like
    # member, so that seller and buyer kinds stay close to the honest mix.
    circ = pat == "circular"
    lead = first[circ][k[circ] == 0]
    r = region[lead]
    ring = distinct_members(rng, pick, np.stack(
        [seller[lead], pick.draw(rng, pick.kind[buyer[lead]], r),
         pick.draw(rng, pick.kind[seller[lead + 1]], r)], axis=1))
    ev = np.repeat(np.arange(len(lead)), 3)
    kc = k[circ]
    seller[circ], buyer[circ] = ring[ev, kc], ring[ev, (kc + 1) % 3]

    # A long cycle across provinces: members alternate between templates' sellers and buyers.
    cyc = pat == "long_cycle"
    member = np.where(k % 2 == 0, seller, buyer)
    for size in np.unique(n[cyc]):
        heads = np.flatnonzero(cyc & (k == 0) & (n == size))
        members = distinct_members(rng, pick, np.stack([member[heads + j] for j in range(size)],
                                                       axis=1))
        member[heads[:, None] + np.arange(size)] = members
    nxt = first + (k + 1) % np.maximum(n, 1)
    seller[cyc], buyer[cyc] = member[cyc], member[nxt[cyc]]
    # Rings pass the amount on, each leg its declared share of the previous one.
    chained = np.isin(pat, ["circular", "long_cycle"])
    bounds = pd.Series(pat).map(LEG_RATIO)
    lo = bounds.map(lambda b: b[0] if isinstance(b, tuple) else 1.0).to_numpy(float)
    hi = bounds.map(lambda b: b[1] if isinstance(b, tuple) else 1.0).to_numpy(float)
    factor = np.where(k == 0, 1.0, rng.uniform(lo, hi, m))
    passed = pd.Series(factor).groupby(c["event_id"].to_numpy()).cumprod().to_numpy()
    amount[chained] = amount[first[chained]] * passed[chained]

    # A broker's burst serves sellers of the broker's province, each of its template's kind.
    burst = pat == "broker_spike"
    seller[burst] = pick.draw(rng, pick.kind[seller[burst]], region[first[burst]])
    for col in ("inst_idx", "broker_idx"):
        c.loc[burst, col] = c[col].to_numpy()[first[burst]]

    ghost = pat == "phantom_buyer"
    seller[ghost] = seller[first[ghost]]
    buyer[ghost] = pick.reserved(rng, pick.kind[buyer[ghost]])

    big = pat == "inflated"
    amount[big] *= rng.uniform(8, 30, int(big.sum()))
    c.loc[big, "tech_share"] = 1.0
    shape_held_out(rng, c, pick, seller, buyer, amount)
    c["seller_idx"], c["buyer_idx"], c["amount"] = seller, buyer, amount
    _spread_days(rng, c, spec)


def _spread_days(rng: np.random.Generator, c: pd.DataFrame, spec: MarketSpec) -> None:
    """Days of an event's contracts around its template day, with a random member on that day.

    Centring on a random member keeps each contract's day distributed as the honest ones'
    (no clipping to a year's end); an event that would cross the export date or the first
    year's start is moved whole.
    """
    pat, k, first = c["pattern"].to_numpy(), c["k"].to_numpy(), c["first"].to_numpy()
    m = len(c)
    off = np.zeros(m, dtype=np.int64)
    for name, (lo, hi) in _STEP_DAYS.items():
        step = np.where((pat == name) & (k > 0), rng.integers(lo, hi + 1, m), 0)
        off = np.where(pat == name, pd.Series(step).groupby(first).cumsum().to_numpy(), off)
    for name, hi in _SPREAD_DAYS.items():
        off = np.where(pat == name, rng.integers(0, hi + 1, m), off)
    n = c["n"].to_numpy()
    centre = first + (rng.random(m) * n).astype(np.int64)[first]
    days = c["reg"].to_numpy()[first] + (off - off[centre]).astype("timedelta64[D]")
    lo = np.datetime64(f"{spec.first_year}-01-01", "D")
    ev_min = pd.Series(days).groupby(first).transform("min").to_numpy()
    ev_max = pd.Series(days).groupby(first).transform("max").to_numpy()
    zero = np.timedelta64(0, "D")
    c["reg"] = days + np.maximum(lo - ev_min, zero) - np.maximum(ev_max - spec.end, zero)


def make_fraud_contracts(rng: np.random.Generator, actors: Actors, spec: MarketSpec,
                         templates: Templates) -> pd.DataFrame:
    """Irregular contracts with their event, pattern and detection, in the internal layout.

    ``templates(year, n)`` draws ``n`` honest-looking contracts of ``year``. Columns: those of
    the templates plus event_id, pattern, detected, detect_date. Amounts are before the yearly
    fit; a threshold contract's amount is set with the honest ones' (see ``amounts``).
    """
    pick = actors.picker()
    frames, n_events = [], 0
    for y in range(spec.first_year, spec.last_year + 1):
        pats, sizes = _events(rng, IRREGULAR_SHARE * year_target(y, spec.scale).contracts)
        t, pats, sizes = _order_templates(rng, templates(y, int(sizes.sum())), pats, sizes)
        starts = np.cumsum(sizes) - sizes
        t["event_id"] = np.repeat(np.arange(len(sizes)) + n_events, sizes)
        t["pattern"] = np.repeat(pats, sizes)
        t["n"] = np.repeat(sizes, sizes)
        t["k"] = np.arange(len(t)) - np.repeat(starts, sizes)
        t["first"] = np.repeat(starts, sizes)
        _shape(rng, t, pick, spec)
        frames.append(t)
        n_events += len(sizes)
    c = pd.concat(frames, ignore_index=True)
    c["first"] = np.flatnonzero(c["k"].to_numpy() == 0)[c["event_id"].to_numpy()]
    assign_perpetrators(rng, c, actors, pick)

    # Detection is per event: an audit confirms the whole scheme at once, months later.
    heads = c[c["k"] == 0]
    p_det = pd.Series(DETECTION_P)[heads["pattern"]].to_numpy()
    p_det = np.where(heads["inst_idx"].to_numpy() < 0, p_det * 0.8, p_det)
    detected = rng.random(len(heads)) < p_det
    delay = np.clip(rng.lognormal(np.log(300), 0.6, len(heads)), 45, 1500).astype(int)
    last = c.groupby("event_id")["reg"].max().to_numpy()
    eid = c["event_id"].to_numpy()
    c["detected"] = detected[eid]
    c["detect_date"] = (last + delay.astype("timedelta64[D]"))[eid]
    return c.drop(columns=["k", "n", "first"])
