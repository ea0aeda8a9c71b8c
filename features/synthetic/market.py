"""A synthetic national technology market that agrees with the published figures.

The market is built in three layers: actors with hidden traits
(:mod:`features.synthetic.actors`), irregular contracts from dishonest actors
(:mod:`features.synthetic.fraud`), and the honest bulk of the register, whose counts and
amounts are then fitted per year and seller kind to :mod:`features.synthetic.published`. What an
audit later finds becomes contract status and conduct records, with realistic delays and
incomplete detection; the hidden traits and the irregular flags go to separate truth files.

Everything is drawn from one seeded generator in a fixed order, so the same seed gives
byte-identical Parquet files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features.standard.schema import conform, to_arrow
from features.standard.tables import TABLES, table
from features.synthetic.actors import (
    BUYER_KIND_P,
    PARTY_KINDS,
    REGION_AMOUNT,
    REGION_CODES,
    REGION_P,
    Actors,
    make_actors,
)
from features.synthetic.amounts import seller_groups, settle_amounts
from features.synthetic.fraud import (
    IRREGULAR_SHARE,
    make_fraud_contracts,
    random_days,
    tech_share,
)
from features.synthetic.patterns import SPEC_OF
from features.synthetic.published import year_target
from features.synthetic.records import (
    annual_reports,
    assess_institutions,
    background_conduct,
    conduct_from_events,
)
from features.synthetic.spec import MarketSpec, year_of

CONTRACT_TYPES = np.array(["development", "transfer", "licensing", "consulting", "service"])
_TYPE_P = np.array([0.30, 0.08, 0.05, 0.12, 0.45])
# Median amount (yuan) per type before the yearly fit; spread is common (log-sd 1.9).
_TYPE_MEDIAN = np.array([9e5, 1.2e6, 8e5, 2e5, 5e5])
_SIGMA = 1.9
TECH_FIELDS = np.array([
    "electronic_information", "advanced_manufacturing", "new_materials", "biomedicine",
    "new_energy", "modern_agriculture", "urban_social", "environment", "aerospace",
    "modern_transport", "nuclear", "other"])
_FIELD_P = np.array([0.30, 0.12, 0.07, 0.08, 0.08, 0.06, 0.12, 0.08, 0.02, 0.04, 0.01, 0.02])
FACILITATED_SHARE = 0.35  # contracts brought about by a transfer institution
BROKERED_SHARE = 0.6  # of facilitated contracts, those with a named broker
TRUTH_DIR = "_truth"


@dataclass
class Market:
    spec: MarketSpec
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)


def _reserves(spec: MarketSpec) -> tuple[int, int]:
    """Never-trading parties to set aside for phantom buyers and for newcomers' shell
    sellers, with a margin for chance (one shell per event; counted per contract here).
    """
    total = sum(year_target(y, spec.scale).contracts
                for y in range(spec.first_year, spec.last_year + 1))
    return (int(1.5 * total * IRREGULAR_SHARE * SPEC_OF["phantom_buyer"].share),
            int(1.5 * total * IRREGULAR_SHARE * SPEC_OF["newcomer_outsized"].share))


def _count_shares(year: int, scale: float) -> np.ndarray:
    t = year_target(year, scale)
    return np.array([t.enterprise_count_share, t.academic_count_share,
                     1 - t.enterprise_count_share - t.academic_count_share])


def _honest_contracts(rng: np.random.Generator, actors: Actors, year: int,
                      counts: np.ndarray) -> pd.DataFrame:
    """The honest bulk of one year: ``counts`` = contracts sold by enterprises, academia, other."""
    p = actors.parties
    kind = p["kind"].to_numpy()
    act = p["activity"].to_numpy()
    sellers = []
    for g, n in enumerate(counts):
        if g == 1:  # universities 60 %, research institutes 40 % of academic contracts
            nu = rng.binomial(n, 0.6)
            sellers += [_by_activity(rng, kind == "university", act, nu),
                        _by_activity(rng, kind == "research_institute", act, n - nu)]
        else:
            sellers.append(_by_activity(rng, kind == ("enterprise" if g == 0 else "other"), act, n))
    seller = np.concatenate(sellers)
    n = len(seller)
    buyer_kind = rng.choice(len(PARTY_KINDS), n, p=BUYER_KIND_P)
    buyer = np.empty(n, dtype=np.int64)
    for k, name in enumerate(PARTY_KINDS):
        rows = np.flatnonzero(buyer_kind == k)
        buyer[rows] = _by_activity(rng, kind == name, act, len(rows))
    ctype = rng.choice(len(CONTRACT_TYPES), n, p=_TYPE_P)
    region = p["region_idx"].to_numpy()[seller]
    amount = rng.lognormal(np.log(_TYPE_MEDIAN[ctype] * REGION_AMOUNT[region]), _SIGMA)
    reg = random_days(rng, np.full(n, year))
    return pd.DataFrame(
        {
            "seller_idx": seller,
            "buyer_idx": buyer,
            "reg": reg,
            "contract_type": CONTRACT_TYPES[ctype],
            "amount": amount,
            "tech_share": tech_share(rng, CONTRACT_TYPES[ctype]),
            "tech_field_idx": rng.choice(len(TECH_FIELDS), n, p=_FIELD_P),
        }
    )


def _by_activity(rng: np.random.Generator, mask: np.ndarray, act: np.ndarray, n: int) -> np.ndarray:
    pool = np.flatnonzero(mask)
    w = act[pool]
    picks = np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n), side="right")
    return pool[picks.clip(0, len(pool) - 1)]


def _facilitate(rng: np.random.Generator, actors: Actors, c: pd.DataFrame) -> None:
    """Attach an active institution of the seller's province, and often one of its brokers."""
    inst, brk = actors.institutions, actors.brokers
    n = len(c)
    region = actors.parties["region_idx"].to_numpy()[c["seller_idx"].to_numpy()]
    reg = c["reg"].to_numpy()
    inst_idx = np.full(n, -1)
    flagged = rng.random(n) < FACILITATED_SHARE
    i_region = inst["region_idx"].to_numpy()
    w_all = inst["capability"].to_numpy() + 0.1
    for r in np.unique(region[flagged]):
        rows = np.flatnonzero(flagged & (region == r))
        pool = np.flatnonzero(i_region == r)
        if len(pool) == 0:
            pool = np.arange(len(inst))
        w = w_all[pool]
        inst_idx[rows] = pool[rng.choice(len(pool), len(rows), p=w / w.sum())]
    ok = inst_idx >= 0
    j = np.maximum(inst_idx, 0)
    ok &= (inst["founded_date"].to_numpy()[j] <= reg) & (reg <= inst["active_until"].to_numpy()[j])
    inst_idx = np.where(ok, inst_idx, -1)
    # Brokers: CSR layout of brokers per institution; unaffiliated brokers serve a few others.
    broker_idx = np.full(n, -1)
    order = np.argsort(brk["inst_idx"].to_numpy(), kind="stable")
    b_inst = brk["inst_idx"].to_numpy()[order]
    start = np.searchsorted(b_inst, np.arange(len(inst)))
    count = np.searchsorted(b_inst, np.arange(len(inst)), side="right") - start
    want = (inst_idx >= 0) & (rng.random(n) < BROKERED_SHARE)
    has = want & (count[j] > 0)
    pick = start[j] + (rng.random(n) * np.maximum(count[j], 1)).astype(np.int64)
    broker_idx[has] = order[pick[has]]
    lone = np.flatnonzero(brk["inst_idx"].to_numpy() < 0)
    indep = (inst_idx < 0) & (rng.random(n) < 0.04) & (len(lone) > 0)
    broker_idx[indep] = lone[rng.integers(0, max(len(lone), 1), int(indep.sum()))]
    certified = brk["certified_date"].to_numpy()[np.maximum(broker_idx, 0)]
    broker_idx = np.where((broker_idx >= 0) & (certified <= reg), broker_idx, -1)
    c["inst_idx"], c["broker_idx"] = inst_idx, broker_idx


def _contracts(rng: np.random.Generator, actors: Actors, spec: MarketSpec) -> pd.DataFrame:
    """Internal contract frame: indices, truth and detection, honest and planted alike."""
    years = np.arange(spec.first_year, spec.last_year + 1)

    def templates(year: int, n: int) -> pd.DataFrame:
        t = _honest_contracts(rng, actors, year, rng.multinomial(n, _count_shares(year, 1.0)))
        _facilitate(rng, actors, t)
        return t

    fraud = make_fraud_contracts(rng, actors, spec, templates)
    fraud["is_irregular"] = True
    kinds = actors.parties["kind"].to_numpy()
    fraud_year = year_of(fraud["reg"])
    fraud_group = seller_groups(kinds[fraud["seller_idx"].to_numpy()])
    parts = []
    for y in years:
        t = year_target(int(y), spec.scale)
        goal = np.round(t.contracts * _count_shares(int(y), spec.scale)).astype(int)
        planted = np.bincount(fraud_group[fraud_year == y], minlength=3)
        honest = _honest_contracts(rng, actors, int(y), np.maximum(goal - planted, 0))
        _facilitate(rng, actors, honest)
        parts.append(honest)
    c = pd.concat(parts, ignore_index=True)
    c["is_irregular"] = False
    c["pattern"] = ""
    c["event_id"] = -1
    c["detected"] = False
    c["detect_date"] = np.datetime64("NaT", "D")
    c = pd.concat([c, fraud], ignore_index=True)
    c["seller_kind"] = kinds[c["seller_idx"].to_numpy()]
    c["tech_field"] = TECH_FIELDS[c["tech_field_idx"].to_numpy().astype(np.int64)]
    settle_amounts(rng, c, spec)
    # Signing precedes registration by days to months.
    lag = np.minimum(rng.geometric(1 / 21, len(c)) - 1, 365)
    c["signed"] = c["reg"].to_numpy() - lag.astype("timedelta64[D]")
    # Stable ids: ordered by registration day, ties broken by a seeded key.
    c["_key"] = rng.random(len(c))
    c = c.sort_values(["reg", "_key"], kind="stable").reset_index(drop=True)
    year = year_of(c["reg"])
    seq = c.groupby(year).cumcount().to_numpy() + 1
    c["contract_id"] = np.char.add(np.char.add("C", year.astype(str)),
                                   np.char.zfill(seq.astype(str), 7)).astype(object)
    _status(rng, c, spec)
    return c.drop(columns=["_key", "tech_field_idx", "tech_share"])


def _status(rng: np.random.Generator, c: pd.DataFrame, spec: MarketSpec) -> None:
    """Later status: found false after a detected audit; any contract may be revoked or
    disputed, planted or not, at the same rates.
    """
    n = len(c)
    reg = c["reg"].to_numpy()
    u = rng.random(n)
    found = c["detected"].to_numpy() & (c["detect_date"].to_numpy() <= spec.end)
    revoke, dispute = u < 0.008, (u >= 0.008) & (u < 0.018)
    delay = np.where(revoke, rng.integers(20, 180, n), rng.integers(60, 540, n))
    when = reg + delay.astype("timedelta64[D]")
    other = (revoke | dispute) & (when <= spec.end)
    c["status"] = np.select([found, other & revoke, other], ["false_found", "revoked", "disputed"],
                            "registered").astype(object)
    c["status_date"] = np.where(found, c["detect_date"].to_numpy(),
                                np.where(other, when, np.datetime64("NaT")))


def generate_market(spec: MarketSpec) -> Market:
    """Generate every table of the standard plus the truth files, deterministically."""
    if spec.first_year > spec.last_year:
        raise ValueError(f"first year {spec.first_year} is after last year {spec.last_year}")
    rng = np.random.default_rng(spec.seed)
    actors = make_actors(rng, spec.scale, spec.first_year, spec.last_year, *_reserves(spec))
    c = _contracts(rng, actors, spec)
    reports, misreports = annual_reports(rng, actors, c, spec)
    conduct = pd.concat([conduct_from_events(c, actors, spec), misreports,
                         background_conduct(rng, actors, spec)], ignore_index=True)
    conduct = conduct[conduct["confirmed_date"] <= spec.end]
    conduct = conduct.sort_values(["confirmed_date", "subject_id", "conduct_kind"], kind="stable")
    conduct.insert(0, "record_id", [f"D{i:09d}" for i in range(1, len(conduct) + 1)])
    assess_institutions(rng, actors.institutions, conduct, spec)

    parties, inst, brk = actors.parties, actors.institutions, actors.brokers
    pid = parties["party_id"].to_numpy()
    p_region = REGION_CODES[parties["region_idx"].to_numpy()]
    s, b = c["seller_idx"].to_numpy(), c["buyer_idx"].to_numpy()
    ii, bi = c["inst_idx"].to_numpy(), c["broker_idx"].to_numpy()
    offices = _office_ids(p_region[s], rng)
    contracts = pd.DataFrame(
        {
            "contract_id": c["contract_id"],
            "signed_date": c["signed"],
            "registered_date": c["reg"],
            "contract_type": c["contract_type"],
            "seller_id": pid[s],
            "seller_kind": parties["kind"].to_numpy()[s],
            "seller_region": p_region[s],
            "buyer_id": pid[b],
            "buyer_kind": parties["kind"].to_numpy()[b],
            "buyer_region": p_region[b],
            "institution_id": np.where(
                ii >= 0, inst["institution_id"].to_numpy()[np.maximum(ii, 0)], None
            ),
            "broker_id": np.where(bi >= 0, brk["broker_id"].to_numpy()[np.maximum(bi, 0)], None),
            "amount_yuan": c["amount"],
            "tech_amount_yuan": c["tech_amount"],
            "tech_field": c["tech_field"],
            "office_id": offices,
            "status": c["status"],
            "status_date": c["status_date"],
            "status_basis": None,
        }
    )
    tables = {
        "institutions": inst[[col.name for col in TABLES["institutions"].columns]],
        "brokers": brk[[col.name for col in TABLES["brokers"].columns]],
        "contracts": contracts,
        "institution_reports": reports,
        "conduct_records": conduct.reset_index(drop=True),
    }
    tables = {name: conform(table(name), df.reset_index(drop=True)) for name, df in tables.items()}
    truth = {
        "contracts": pd.DataFrame({
            "contract_id": c["contract_id"], "is_irregular": c["is_irregular"],
            "pattern": c["pattern"], "event_id": c["event_id"].astype(np.int64)}),
        "entities": pd.concat([
            pd.DataFrame({"entity_kind": kind, "entity_id": df[key].to_numpy(),
                          "integrity": df["integrity"].to_numpy(),
                          "dishonest": df["dishonest"].to_numpy(),
                          "onset_year": df["onset_year"].to_numpy()})
            for kind, df, key in (("institution", inst, "institution_id"),
                                  ("broker", brk, "broker_id"), ("party", parties, "party_id"))
        ], ignore_index=True),
    }
    return Market(spec=spec, tables=tables, truth=truth)


def _office_ids(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Registration offices: one to six per province, more where the market is larger."""
    per_region = np.clip(np.round(REGION_P * 30), 1, 6).astype(int)
    lookup = dict(zip(REGION_CODES, per_region, strict=True))
    n_off = pd.Series(region).map(lookup).to_numpy()
    k = (rng.random(len(region)) * n_off).astype(int) + 1
    codes = np.char.add(np.char.add("OF", region.astype(str)), np.char.zfill(k.astype(str), 2))
    return codes.astype(object)


def write_market(market: Market, out: Path, fmt: str = "parquet", encoding: str = "utf-8",
                 headers: str = "en") -> dict[str, Path]:
    """One file per table; truth files (always Parquet) in ``_truth/`` so no loader picks them up.

    ``fmt="csv"`` with ``encoding="gb18030"`` and ``headers="zh"`` imitates the exports of
    registration systems, so ingestion can be exercised on realistic files.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown format {fmt!r}: use parquet or csv")
    if headers not in ("en", "zh"):
        raise ValueError(f"unknown headers {headers!r}: use en or zh")
    out = Path(out)
    (out / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in market.tables.items():
        t = table(name)
        if fmt == "parquet":
            path = out / f"{name}.parquet"
            frame = to_arrow(t, df)
            if headers == "zh":
                frame = frame.rename_columns([c.zh for c in t.columns])
            pq.write_table(frame, path, compression="zstd")
        else:
            path = out / f"{name}.csv"
            csv = df.copy()
            for c in t.columns:
                if c.dtype == "date":
                    csv[c.name] = csv[c.name].dt.strftime("%Y-%m-%d")
            if headers == "zh":
                csv.columns = [c.zh for c in t.columns]
            csv.to_csv(path, index=False, encoding=encoding)
        paths[name] = path
    for name, df in market.truth.items():
        path = out / TRUTH_DIR / f"{name}.parquet"
        df.to_parquet(path, index=False, compression="zstd")
        paths[f"truth/{name}"] = path
    return paths
