"""Institution and broker features at an as-of date, one family function per catalogue family.

Each family function receives the catalogue's declarations for its (entity, family) and
returns exactly one array per declared feature, aligned with the entity table. Windowed
measures are computed for the windows the catalogue declares, so the declaration drives
the computation. Everything is numpy ``bincount``/``groupby`` over the contracts registered
on or before ``as_of``; nothing loops over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import (
    EVIDENCE_HALF_LIFE_DAYS,
    REPORT_GAP_YEAR,
    ROUND_UNIT_YUAN,
    TRAINED_SHARE_REQUIRED,
    Entity,
    Feature,
    features_of,
)
from features.point_in_time.history import (
    BROKER_ATTRIBUTES,
    INSTITUTION_ATTRIBUTES,
    TYPE_CODES,
    History,
    days,
    month_of_days,
    year_of_days,
)
from features.point_in_time.network import cycle_flags, reciprocal_flags, split_flags
from features.point_in_time.versions import as_of
from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN

MARKET_WINDOW = 365  # days of market network the split/reciprocal/cycle flags look at


def just_above(amount: np.ndarray) -> np.ndarray:
    """True where an amount is within +JUST_ABOVE of a subsidy/tax threshold."""
    hit = np.zeros(len(amount), dtype=bool)
    for t in SUBSIDY_THRESHOLDS_YUAN:
        hit |= (amount >= t) & (amount <= t * (1 + JUST_ABOVE))
    return hit


def round_amount(amount: np.ndarray) -> np.ndarray:
    return np.mod(amount, ROUND_UNIT_YUAN) == 0


@dataclass
class Handled:
    """The contracts one kind of entity handled up to as_of, with per-contract flags."""

    n: int  # number of entities in the entity table
    key: np.ndarray  # entity code of each contract
    age: np.ndarray  # as_of - registered day
    c: pd.DataFrame  # the contracts (History.contracts columns + market flags)
    as_of: int

    def within(self, window: int | None) -> np.ndarray:
        return np.ones(len(self.age), dtype=bool) if window is None else self.age < window

    def count(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(self.key[mask], weights=w, minlength=self.n).astype(np.float64)

    def share(self, mask: np.ndarray, flag: np.ndarray) -> np.ndarray:
        return ratio(self.count(mask & flag), self.count(mask))


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def market_flags(h: History, as_of: int) -> pd.DataFrame:
    """Split/reciprocal/cycle flags for contracts of the market window ending at as_of."""
    c = h.contracts
    lo = np.searchsorted(c["reg"].to_numpy(), as_of - MARKET_WINDOW, side="right")
    hi = np.searchsorted(c["reg"].to_numpy(), as_of, side="right")
    s, b, r = (c[k].to_numpy()[lo:hi] for k in ("seller", "buyer", "reg"))
    return pd.DataFrame({
        "split": split_flags(s, b, r),
        "reciprocal": reciprocal_flags(s, b),
        "cycle": cycle_flags(s, b),
    }, index=pd.RangeIndex(lo, hi))


def handled(h: History, entity: Entity, as_of: int, flags: pd.DataFrame) -> Handled:
    c = h.contracts
    hi = int(np.searchsorted(c["reg"].to_numpy(), as_of, side="right"))
    col = "inst" if entity == "institution" else "broker"
    rows = np.flatnonzero(c[col].to_numpy()[:hi] >= 0)
    sub = c.iloc[rows].reset_index(drop=True)
    for name in flags.columns:
        full = np.zeros(hi, dtype=bool)
        full[flags.index.start:flags.index.stop] = flags[name].to_numpy()
        sub[name] = full[rows]
    n = len(h.institutions) if entity == "institution" else len(h.brokers)
    return Handled(n, sub[col].to_numpy(), as_of - sub["reg"].to_numpy(), sub, as_of)


def _hhi(x: Handled, mask: np.ndarray, by: str) -> np.ndarray:
    g = pd.DataFrame({"e": x.key[mask], "k": x.c[by].to_numpy()[mask],
                      "a": x.c["amount"].to_numpy()[mask]})
    sums = g.groupby(["e", "k"], sort=False)["a"].sum()
    e = sums.index.get_level_values(0).to_numpy()
    total = np.bincount(e, weights=sums.to_numpy(), minlength=x.n)
    return ratio(np.bincount(e, weights=sums.to_numpy() ** 2, minlength=x.n), total ** 2)


def _activity(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    c, out = x.c, {}
    for f in feats:
        m = x.within(f.window_days)
        if f.measure == "contracts":
            out[f.name] = x.count(m)
        elif f.measure == "amount":
            out[f.name] = x.count(m, c["amount"].to_numpy())
        elif f.measure == "amount_growth":
            w = f.window_days
            before = (x.age >= w) & (x.age < 2 * w)
            amount = c["amount"].to_numpy()
            out[f.name] = np.log((x.count(m, amount) + 1) / (x.count(before, amount) + 1))
        elif f.measure == "december_share":
            out[f.name] = x.share(m, month_of_days(c["reg"].to_numpy()) == 12)
        elif f.measure.startswith("type_"):
            code = f.measure.removeprefix("type_").removesuffix("_share")
            out[f.name] = x.share(m, c["ctype"].to_numpy() == TYPE_CODES[code])
        else:
            raise KeyError(f.measure)
    return out


def _concentration(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    out = {}
    for f in feats:
        m = x.within(f.window_days)
        if f.measure in ("buyer_hhi", "seller_hhi"):
            out[f.name] = _hhi(x, m, f.measure.removesuffix("_hhi"))
        elif f.measure == "region_hhi":
            out[f.name] = _hhi(x, m, "buyer_region")
        elif f.measure == "repeat_pair_share":
            g = pd.DataFrame({"e": x.key[m], "s": x.c["seller"].to_numpy()[m],
                              "b": x.c["buyer"].to_numpy()[m]})
            size = g.groupby(["e", "s", "b"], sort=False)["e"].transform("size").to_numpy()
            flag = np.zeros(len(x.key), dtype=bool)
            flag[np.flatnonzero(m)] = size >= 2
            out[f.name] = x.share(m, flag)
        else:
            raise KeyError(f.measure)
    return out


def _integrity(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    c, out = x.c, {}
    amount = c["amount"].to_numpy()
    for f in feats:
        m = x.within(f.window_days)
        if f.measure == "threshold_share":
            out[f.name] = x.share(m, just_above(amount))
        elif f.measure == "round_share":
            out[f.name] = x.share(m, round_amount(amount))
        elif f.measure in ("split_share", "reciprocal_share", "cycle_share"):
            if f.window_days != MARKET_WINDOW:
                raise ValueError(f"{f.name}: market flags are built for {MARKET_WINDOW} days")
            out[f.name] = x.share(m, c[f.measure.removesuffix("_share")].to_numpy())
        elif f.measure == "bad_status_share":
            out[f.name] = x.share(m, c["bad_day"].to_numpy() <= x.as_of)
        elif f.measure == "false_found":
            out[f.name] = x.count(m & (c["false_day"].to_numpy() <= x.as_of))
        elif f.measure in ("report_amount_gap", "report_count_gap"):
            out[f.name] = _report_gap(x, h, f.measure)
        elif f.measure in ("report_gap_max", "report_gap_years"):
            out[f.name] = _report_history(x, h, f.measure, f.window_days)
        else:
            raise KeyError(f.measure)
    return out


def latest_reports(h: History, as_of: int) -> pd.DataFrame:
    """The latest report submitted on or before as_of per institution, indexed by its code."""
    r = h.reports[(h.reports["submitted"] <= as_of) & (h.reports["inst"] >= 0)]
    r = r.sort_values(["inst", "submitted", "year"], kind="stable")
    return r.drop_duplicates("inst", keep="last").set_index("inst")


def _gaps(x: Handled, rep: pd.DataFrame, inst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log ratios (amount, count) of each report against the register's figures for its year.

    The register side is what the institution facilitated in the report's year among contracts
    registered by as_of, so a report is never compared with contracts registered after it.
    """
    year = year_of_days(x.c["reg"].to_numpy())
    key = pd.Series(x.key * 10_000 + year)
    registry = pd.DataFrame({"k": key, "a": x.c["amount"].to_numpy()}).groupby("k")["a"].agg(
        ["sum", "size"])
    reg = registry.reindex(inst * 10_000 + rep["year"].to_numpy()).fillna(0.0)
    amount = np.log((rep["amount_reported_yuan"].to_numpy() + 1) / (reg["sum"].to_numpy() + 1))
    count = np.log((rep["contracts_reported"].to_numpy() + 1) / (reg["size"].to_numpy() + 1))
    return amount, count


def _report_gap(x: Handled, h: History, measure: str) -> np.ndarray:
    rep = latest_reports(h, x.as_of)
    out = np.full(x.n, np.nan)
    if rep.empty:
        return out
    amount, count = _gaps(x, rep, rep.index.to_numpy())
    out[rep.index.to_numpy()] = amount if measure == "report_amount_gap" else count
    return out


def _report_history(x: Handled, h: History, measure: str, window: int | None) -> np.ndarray:
    """Largest amount gap, or years over-reported, over the reports of the trailing window."""
    r = h.reports
    age = x.as_of - r["submitted"].to_numpy()
    rep = r[(age >= 0) & (age < (window or np.iinfo(np.int64).max)) & (r["inst"] >= 0)]
    # a corrected re-submission replaces its year's report, as in latest_reports
    rep = rep.sort_values(["inst", "year", "submitted"], kind="stable").drop_duplicates(
        ["inst", "year"], keep="last")
    out = np.full(x.n, np.nan)
    if rep.empty:
        return out
    inst = rep["inst"].to_numpy()
    amount, count = _gaps(x, rep, inst)
    if measure == "report_gap_max":
        got = pd.Series(amount).groupby(inst).max()
    else:
        over = (amount >= REPORT_GAP_YEAR) | (count >= REPORT_GAP_YEAR)
        got = pd.Series(over.astype(np.float64)).groupby(inst).sum()
    out[got.index.to_numpy()] = got.to_numpy()
    return out


def _capacity(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    rep = latest_reports(h, x.as_of)
    idx = rep.index.to_numpy()
    staff = rep["staff"].to_numpy()
    values = {
        "staff": staff,
        "trained_share": ratio(rep["trained_staff"].to_numpy(), staff),
        "trained_gap": ratio(rep["trained_staff"].to_numpy(), staff) - TRAINED_SHARE_REQUIRED,
        "clients_served": rep["clients_served"].to_numpy(),
        "revenue_per_staff": ratio(rep["service_revenue_yuan"].to_numpy(), staff),
        "complaints_per_client": ratio(
            rep["complaints"].to_numpy(), rep["clients_served"].to_numpy()
        ),
        "report_age_days": (x.as_of - rep["submitted"].to_numpy()).astype(np.float64),
    }
    out = {}
    for f in feats:
        col = np.full(x.n, np.nan)
        col[idx] = values[f.measure]
        out[f.name] = col
    return out


def _conduct(x: Handled, feats: list[Feature], h: History, kind: str) -> dict[str, np.ndarray]:
    cr = h.conduct
    cr = cr[(cr["kind"] == kind) & (cr["subject"] >= 0) & (cr["confirmed"] <= x.as_of)]
    subj, age = cr["subject"].to_numpy(), x.as_of - cr["confirmed"].to_numpy()
    out = {}
    for f in feats:
        m = np.ones(len(subj), dtype=bool) if f.window_days is None else age < f.window_days
        if f.measure == "conduct":
            out[f.name] = np.bincount(subj[m], minlength=x.n).astype(np.float64)
        elif f.measure == "conduct_serious":
            out[f.name] = np.bincount(subj[m & cr["serious"].to_numpy()], minlength=x.n).astype(
                np.float64)
        elif f.measure == "days_since_conduct":
            last = np.full(x.n, np.nan)
            if len(subj):
                s = pd.Series(age).groupby(subj).min()
                last[s.index.to_numpy()] = s.to_numpy()
            out[f.name] = last
        elif f.measure == "counterparty_conduct_decayed":
            out[f.name] = _counterparty_conduct(x, h)
        else:
            raise KeyError(f.measure)
    return out


def _counterparty_conduct(x: Handled, h: History) -> np.ndarray:
    """Each handled contract whose seller or buyer has a party record confirmed by as_of,
    weighted by 2^(-age / half-life): dealings with dishonest parties weigh while recent, and
    a record confirmed after the contract still exposes the entity that brokered it."""
    cr = h.conduct
    party = cr.loc[(cr["kind"] == "party") & (cr["subject"] >= 0)
                   & (cr["confirmed"] <= x.as_of), "subject"].to_numpy()
    on_record = np.zeros(len(h.party_ids) + 1, dtype=bool)  # the last slot: no party (-1)
    on_record[party] = True
    seller, buyer = (x.c[k].to_numpy() for k in ("seller", "buyer"))
    hit = on_record[seller] | on_record[buyer]
    return x.count(hit, np.exp2(-x.age / EVIDENCE_HALF_LIFE_DAYS))


def _institution_profile(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    i = h.institutions
    held = attributes_at(h.institution_versions, len(i), x.as_of, list(INSTITUTION_ATTRIBUTES))
    status_day = days(held["status_date"])
    values = {
        "tenure_days": (x.as_of - i["founded"].to_numpy()).astype(np.float64),
        "national": ((held["level"].to_numpy() == "national")
                     & (i["designated"].to_numpy() <= x.as_of)).astype(np.float64),
        "warned": ((held["status"].to_numpy() == "warned")
                   & (status_day <= x.as_of)).astype(np.float64),
    }
    return {f.name: values[f.measure] for f in feats}


_CERT_RANK = {"junior": 0.0, "intermediate": 1.0, "senior": 2.0}


def attributes_at(versions: pd.DataFrame, n: int, day: int, columns: list[str]) -> pd.DataFrame:
    """Row ``k``: the attributes entity code ``k`` had on ``day`` (see
    :mod:`features.point_in_time.versions`)."""
    return as_of(versions, pd.Index(np.arange(n)), "code", day, columns)


def _broker_profile(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    b = h.brokers
    held = attributes_at(h.broker_versions, len(b), x.as_of, list(BROKER_ATTRIBUTES))
    values = {
        "tenure_days": (x.as_of - b["certified"].to_numpy()).astype(np.float64),
        "training_hours": held["training_hours"].to_numpy(np.float64, na_value=np.nan),
        "cert_rank": held["cert_level"].map(_CERT_RANK).to_numpy(np.float64),
        "affiliated": held["institution_id"].notna().to_numpy().astype(np.float64),
    }
    return {f.name: values[f.measure] for f in feats}


def _broker(x: Handled, feats: list[Feature], h: History) -> dict[str, np.ndarray]:
    out = {}
    for f in feats:
        if f.measure == "spike_ratio":
            w = f.window_days
            recent = x.count(x.age < w)
            before = x.count((x.age >= w) & (x.age < 365))
            out[f.name] = (recent + 1) / (before * w / (365 - w) + 1)
        elif f.measure == "institutions_served":
            m = x.within(f.window_days) & (x.c["inst"].to_numpy() >= 0)
            pairs = np.unique(x.key[m] * (len(h.institutions) + 1) + x.c["inst"].to_numpy()[m])
            out[f.name] = np.bincount(pairs // (len(h.institutions) + 1), minlength=x.n).astype(
                np.float64)
        else:
            raise KeyError(f.measure)
    return out


Family = Callable[[Handled, list[Feature], History], dict[str, np.ndarray]]
FAMILIES: dict[Entity, dict[str, Family]] = {
    "institution": {
        "activity": _activity, "concentration": _concentration, "integrity": _integrity,
        "capacity": _capacity,
        "conduct": lambda x, f, h: _conduct(x, f, h, "institution"),
        "profile": _institution_profile,
    },
    "broker": {
        "activity": _activity, "concentration": _concentration, "integrity": _integrity,
        "conduct": lambda x, f, h: _conduct(x, f, h, "broker"),
        "profile": _broker_profile, "broker": _broker,
    },
}


def present(h: History, entity: Entity, as_of: int) -> np.ndarray:
    """Codes of the entities that exist at as_of (founded/certified, not yet exited)."""
    if entity == "institution":
        i = h.institutions
        exited = (i["status"].to_numpy() == "exited") & (i["status_day"].to_numpy() <= as_of)
        return np.flatnonzero((i["founded"].to_numpy() <= as_of) & ~exited)
    return np.flatnonzero(h.brokers["certified"].to_numpy() <= as_of)


def entity_features(h: History, entity: Entity, as_of: int, flags: pd.DataFrame) -> pd.DataFrame:
    """One row per entity present at as_of: ``entity_id``, then the catalogue's columns in order."""
    x = handled(h, entity, as_of, flags)
    feats = features_of(entity)
    values: dict[str, np.ndarray] = {}
    for family in dict.fromkeys(f.family for f in feats):
        declared = [f for f in feats if f.family == family]
        got = FAMILIES[entity][family](x, declared, h)
        if set(got) != {f.name for f in declared}:
            raise RuntimeError(f"{entity}/{family} computed {sorted(got)}, declared "
                               f"{sorted(f.name for f in declared)}")
        values.update(got)
    rows = present(h, entity, as_of)
    ids = (h.institution_ids if entity == "institution" else h.broker_ids).to_numpy()[rows]
    out = pd.DataFrame({f.name: np.asarray(values[f.name], dtype=np.float64)[rows] for f in feats})
    out.insert(0, "entity_id", ids)
    return out
