"""Fraud patterns of the synthetic market: how dishonest actors create irregular contracts.

Each pattern is one documented behaviour seen in technology-contract audits (see
``docs/data-standard.md``, "Synthetic market"):

- ``threshold``  — an amount placed just above a subsidy or tax-relief threshold;
- ``split``      — one deal split into several contracts for the same pair on the same day;
- ``circular``   — a ring of related parties selling to each other (A→B→C→A) to inflate turnover;
- ``inflated``   — an amount many times its peers', with the whole amount claimed as technology;
- ``broker_spike`` — a broker's sudden burst of contracts in one month.

Misreported annual performance is the sixth pattern and lives with the reports. An *event*
is one act of fraud; it may span several contracts and is detected (or not) as a whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN
from features.synthetic.actors import Actors

PATTERNS = ("threshold", "split", "circular", "inflated", "broker_spike")
# Chance that an audit eventually confirms an event of each pattern.
DETECTION_P = {"threshold": 0.35, "split": 0.4, "circular": 0.3, "inflated": 0.45,
               "broker_spike": 0.5}
_INSTITUTION_MIX = {"threshold": 0.3, "split": 0.25, "circular": 0.2, "inflated": 0.25}
_MONTH_P = np.array([5, 5, 7, 7, 7, 8, 8, 8, 8, 8, 10, 19], dtype=float)
MONTH_P = _MONTH_P / _MONTH_P.sum()


# Share of contracts whose whole amount is technology, per contract type; the rest draw the
# technology part from Beta(9, 1.5) (mean 86 %).
_FULL_TECH_P = {"development": 0.35, "transfer": 0.6, "licensing": 0.6, "consulting": 0.3,
                "service": 0.2}


def tech_share(rng: np.random.Generator, contract_type: np.ndarray) -> np.ndarray:
    """Technology-transaction share of each contract's amount (技术交易额 / 合同成交额)."""
    full_p = pd.Series(_FULL_TECH_P)[contract_type].to_numpy()
    return np.where(rng.random(len(contract_type)) < full_p, 1.0,
                    rng.beta(9, 1.5, len(contract_type)))


def random_days(rng: np.random.Generator, years: np.ndarray, month_p: np.ndarray = MONTH_P
                ) -> np.ndarray:
    """Registration days within each year, with the year-end peak of the real registry."""
    months = rng.choice(12, len(years), p=month_p)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + months
    days_in_month = (
        (start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")
    ).astype(int)
    return start.astype("datetime64[D]") + (rng.random(len(years)) * days_in_month).astype(
        "timedelta64[D]")


def _poisson_events(rng: np.random.Generator, rate: np.ndarray, years: np.ndarray,
                    onset: np.ndarray, start: np.ndarray, until: np.ndarray,
                    volume: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """(actor index, year) of each event: Poisson per actor-year while active and past onset."""
    who, when = [], []
    for y in years:
        alive = (start <= np.datetime64(f"{y}-12-31")) & (until >= np.datetime64(f"{y}-01-01"))
        lam = np.where(alive & (y >= onset), rate * volume[y], 0.0)
        k = rng.poisson(lam)
        idx = np.repeat(np.arange(len(rate)), k)
        who.append(idx)
        when.append(np.full(len(idx), y))
    return np.concatenate(who), np.concatenate(when)


def _pick(rng: np.random.Generator, pool: np.ndarray, weights: np.ndarray | None, n: int
          ) -> np.ndarray:
    if len(pool) == 0 or n == 0:
        return np.full(n, -1)
    p = None if weights is None else weights / weights.sum()
    return pool[rng.choice(len(pool), n, p=p)]


def _round_to(x: np.ndarray, unit: float) -> np.ndarray:
    return np.maximum(np.round(x / unit) * unit, unit)


def make_fraud_contracts(rng: np.random.Generator, actors: Actors, years: np.ndarray,
                         volume: dict[int, float]) -> pd.DataFrame:
    """Irregular contracts with their event, pattern and detection, in the internal layout.

    Columns: event_id, pattern, inst_idx, broker_idx, seller_idx, buyer_idx, reg, amount,
    tech_amount, contract_type, detected, detect_date. ``volume`` scales fraud with the
    market's size in each year so that the irregular share stays plausible over time.
    """
    inst, brk, parties = actors.institutions, actors.brokers, actors.parties
    ent = np.flatnonzero(parties["kind"].to_numpy() == "enterprise")
    ent_region = parties["region_idx"].to_numpy()[ent]
    ent_act = parties["activity"].to_numpy()[ent]
    inst_region = inst["region_idx"].to_numpy()

    # --- institution events -------------------------------------------------------------
    integ = inst["integrity"].to_numpy()
    rate = np.where(
        inst["dishonest"], 14.0 * (1 - integ), np.where(integ < 0.7, 0.6 * (1 - integ), 0)
    )
    i_who, i_year = _poisson_events(
        rng,
        rate,
        years,
        inst["onset_year"].to_numpy(),
        inst["founded_date"].to_numpy(),
        inst["active_until"].to_numpy(),
        volume,
    )
    i_pat = rng.choice(list(_INSTITUTION_MIX), len(i_who), p=list(_INSTITUTION_MIX.values()))
    # Each dishonest institution keeps one ring of three shell companies in its province.
    ring = np.empty((len(inst), 3), dtype=np.int64)
    for r in np.unique(inst_region):
        pool = ent[ent_region == r] if np.any(ent_region == r) else ent
        members = np.flatnonzero(inst_region == r)
        ring[members] = pool[rng.integers(0, len(pool), (len(members), 3))]
    brokers_of = brk[brk["inst_idx"] >= 0].groupby("inst_idx").indices
    # --- broker spikes ------------------------------------------------------------------
    b_rate = np.where(brk["dishonest"], 0.6, 0.0)
    b_who, b_year = _poisson_events(rng, b_rate, years, brk["onset_year"].to_numpy(),
                                    brk["certified_date"].to_numpy(),
                                    np.full(len(brk), np.datetime64("2100-01-01")), volume)
    # --- party events (sellers acting alone) --------------------------------------------
    p_dis = np.flatnonzero(
        parties["dishonest"].to_numpy() & (parties["kind"] == "enterprise").to_numpy()
    )
    p_who, p_year = _poisson_events(
        rng,
        np.full(len(p_dis), 0.8),
        years,
        parties["onset_year"].to_numpy()[p_dis],
        np.full(len(p_dis), np.datetime64("1900-01-01")),
        np.full(len(p_dis), np.datetime64("2100-01-01")),
        volume,
    )
    p_who = p_dis[p_who]
    p_pat = np.where(rng.random(len(p_who)) < 0.6, "threshold", "inflated")

    # --- one row per event ----------------------------------------------------------------
    ev = pd.DataFrame(
        {
            "pattern": np.concatenate([i_pat, np.full(len(b_who), "broker_spike"), p_pat]),
            "year": np.concatenate([i_year, b_year, p_year]),
            "inst_idx": np.concatenate(
                [i_who, brk["inst_idx"].to_numpy()[b_who], np.full(len(p_who), -1)]
            ),
            "broker_idx": np.concatenate([np.full(len(i_who), -1), b_who, np.full(len(p_who), -1)]),
            "seller_idx": np.concatenate([np.full(len(i_who) + len(b_who), -1), p_who]),
        }
    )
    n_ev = len(ev)
    ev["event_id"] = np.arange(n_ev)
    # Half of the institution events go through one of its brokers.
    inst_ev = np.flatnonzero((ev["broker_idx"] < 0) & (ev["inst_idx"] >= 0))
    via_broker = inst_ev[rng.random(len(inst_ev)) < 0.5]
    pick = rng.random(len(via_broker))
    ev_broker = ev["broker_idx"].to_numpy().copy()
    for j, e in enumerate(via_broker):
        pool = brokers_of.get(int(ev["inst_idx"].iat[e]))
        if pool is not None and len(pool):
            ev_broker[e] = pool[int(pick[j] * len(pool))]
    ev["broker_idx"] = ev_broker
    ev["n"] = np.select(
        [ev["pattern"] == "split", ev["pattern"] == "circular", ev["pattern"] == "broker_spike"],
        [rng.integers(3, 9, n_ev), np.full(n_ev, 3), rng.integers(8, 21, n_ev)], 1)
    ev["date"] = random_days(rng, ev["year"].to_numpy())

    # --- expand to contracts ----------------------------------------------------------------
    c = ev.loc[ev.index.repeat(ev["n"])].reset_index(drop=True)
    c["k"] = c.groupby("event_id").cumcount()
    m = len(c)
    pat = c["pattern"].to_numpy()
    year_end = (c["year"].to_numpy() - 1969).astype("datetime64[Y]").astype("datetime64[D]") - 1
    offset = np.select([pat == "circular", pat == "broker_spike"],
                       [c["k"].to_numpy() * rng.integers(0, 11, m), rng.integers(0, 28, m)], 0)
    c["reg"] = np.minimum(c["date"].to_numpy() + offset.astype("timedelta64[D]"), year_end)

    # Sellers: the actor itself (party events), a ring member (circular), a client enterprise
    # of the institution's or broker's province (one per event; one per contract in a spike).
    ev_inst = ev["inst_idx"].to_numpy()
    ev_region = np.where(ev_inst >= 0, inst_region[np.maximum(ev_inst, 0)],
                         parties["region_idx"].to_numpy()[np.maximum(ev["seller_idx"], 0)])
    lone_broker = (ev_inst < 0) & (ev["broker_idx"].to_numpy() >= 0)
    ev_region = np.where(lone_broker, rng.choice(ent_region, n_ev), ev_region)
    ev_seller = np.where(ev["seller_idx"] >= 0, ev["seller_idx"],
                         _client(rng, ent, ent_region, ent_act, ev_region))
    ev_buyer = _client(rng, ent, ent_region, ent_act, rng.choice(ent_region, n_ev))
    eid = c["event_id"].to_numpy()
    seller, buyer = ev_seller[eid], ev_buyer[eid]
    spike = pat == "broker_spike"
    seller[spike] = _client(rng, ent, ent_region, ent_act, ev_region[eid[spike]])
    buyer[spike] = _client(rng, ent, ent_region, ent_act, rng.choice(ent_region, int(spike.sum())))
    circ = pat == "circular"
    r = ring[np.maximum(c["inst_idx"].to_numpy(), 0)]
    k = c["k"].to_numpy() % 3
    seller[circ] = r[circ, k[circ]]
    buyer[circ] = r[circ, (k[circ] + 1) % 3]
    c["seller_idx"], c["buyer_idx"] = seller, buyer

    # Amounts per pattern.
    thresholds = np.asarray(SUBSIDY_THRESHOLDS_YUAN)
    t = thresholds[rng.choice(len(thresholds), m, p=[0.6, 0.25, 0.15][: len(thresholds)])]
    amount = np.select(
        [pat == "threshold", pat == "inflated", pat == "split", pat == "circular"],
        [
            t * (1 + rng.random(m) * JUST_ABOVE),
            rng.lognormal(np.log(5e5), 0.8, m) * rng.uniform(8, 30, m),
            _round_to(rng.lognormal(np.log(3e6), 0.7, n_ev)[c["event_id"]] / c["n"]
                      * rng.uniform(0.97, 1.03, m), 1_000),
            _round_to(rng.lognormal(np.log(2e6), 0.7, n_ev)[c["event_id"]]
                      * rng.uniform(0.95, 1.05, m), 10_000),
        ],
        rng.lognormal(np.log(6e5), 0.6, m) * rng.uniform(2, 6, m),
    )
    c["amount"] = np.round(amount, 2)
    c["contract_type"] = np.where(
        np.isin(pat, ["threshold", "inflated"]), rng.choice(["development", "transfer"], m),
        rng.choice(["development", "service", "consulting"], m, p=[0.4, 0.4, 0.2]))
    # Only inflated contracts claim the whole amount as technology by construction; the other
    # schemes copy the honest mix, so the technology share alone does not give them away.
    share = np.where(pat == "inflated", 1.0, tech_share(rng, c["contract_type"].to_numpy()))
    c["tech_amount"] = np.round(amount * share, 2)

    # Detection is per event: an audit confirms the whole scheme at once, months later.
    p_det = pd.Series(DETECTION_P)[ev["pattern"]].to_numpy()
    p_det = np.where(ev["inst_idx"].to_numpy() < 0, p_det * 0.8, p_det)
    ev_detected = rng.random(n_ev) < p_det
    ev_delay = np.clip(rng.lognormal(np.log(300), 0.6, n_ev), 45, 1500).astype(int)
    last = c.groupby("event_id")["reg"].max().to_numpy()
    c["detected"] = ev_detected[c["event_id"]]
    c["detect_date"] = (last + ev_delay.astype("timedelta64[D]"))[c["event_id"]]
    return c.drop(columns=["date", "k", "n", "year"])


def _client(rng: np.random.Generator, ent: np.ndarray, ent_region: np.ndarray,
            ent_act: np.ndarray, region: np.ndarray) -> np.ndarray:
    """An enterprise from each row's province, weighted by activity (any province if none)."""
    out = np.empty(len(region), dtype=np.int64)
    for r in np.unique(region):
        rows = np.flatnonzero(region == r)
        mask = ent_region == r
        pool, w = (ent[mask], ent_act[mask]) if mask.any() else (ent, ent_act)
        out[rows] = _pick(rng, pool, w, len(rows))
    return out
