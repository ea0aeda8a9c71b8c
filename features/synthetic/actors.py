"""The actors of the synthetic market: parties, institutions, brokers, with hidden traits.

Every actor carries a hidden ``integrity`` (0 = fraudulent, 1 = clean) and ``capability``;
dishonest actors start misbehaving in an ``onset_year``. These traits drive the fraud
patterns in :mod:`features.synthetic.fraud` and are written only to the truth files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.standard.enums import PROVINCES
from features.synthetic.parties import PartyPicker
from features.synthetic.published import NATIONAL_INSTITUTIONS

REGION_CODES = np.array([p[0] for p in PROVINCES])
# Share of contracts sold from each province (skewed as in the real register: Beijing leads,
# then the eastern provinces and Shaanxi/Hubei/Sichuan).
_REGION_WEIGHT = {
    "110000": 0.20, "440000": 0.10, "320000": 0.09, "310000": 0.07, "610000": 0.06,
    "370000": 0.055, "330000": 0.055, "420000": 0.05, "510000": 0.04, "120000": 0.03,
    "210000": 0.03, "340000": 0.03, "410000": 0.02, "430000": 0.02, "350000": 0.015,
    "500000": 0.015, "230000": 0.012, "220000": 0.01, "130000": 0.012, "360000": 0.008,
    "140000": 0.007, "150000": 0.005, "450000": 0.006, "460000": 0.003, "520000": 0.006,
    "530000": 0.006, "540000": 0.001, "620000": 0.006, "630000": 0.002, "640000": 0.002,
    "650000": 0.004,
}
REGION_P = np.array([_REGION_WEIGHT[c] for c in REGION_CODES])
REGION_P = REGION_P / REGION_P.sum()
# Average-amount multiplier per province: Beijing's contracts are larger than elsewhere.
REGION_AMOUNT = np.where(REGION_CODES == "110000", 1.6, np.where(
    np.isin(REGION_CODES, ["310000", "440000", "320000"]), 1.15, 0.85))

PARTY_KINDS = np.array(["enterprise", "university", "research_institute", "other"])
BUYER_KIND_P = np.array([0.76, 0.04, 0.05, 0.15])
# The largest share of each kind among sellers in any year (published count shares; academic
# contracts split 60/40): fresh sellers are reserved by these, so no kind runs short.
SELLER_KIND_MAX_P = np.array([0.71, 0.19, 0.13, 0.04])
PARTY_PREFIX = {"enterprise": "E", "university": "U", "research_institute": "R", "other": "O"}
# Pool sizes at scale 1 and the minimum kept at small scales.
_PARTY_POOL = {"enterprise": (250_000, 300), "university": (2_600, 20),
               "research_institute": (3_500, 20), "other": (20_000, 40)}

INSTITUTION_TYPES = np.array(
    ["university", "research_institute", "enterprise", "public_platform", "private"])
_INSTITUTION_TYPE_P = np.array([0.25, 0.2, 0.2, 0.15, 0.2])


@dataclass
class Actors:
    # party_id, kind, region_idx, activity, integrity, dishonest, onset_year, reserve
    parties: pd.DataFrame
    institutions: pd.DataFrame  # standard columns + hidden traits + end_date
    brokers: pd.DataFrame  # standard columns + hidden traits

    def picker(self) -> PartyPicker:
        return PartyPicker(self.parties)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def _dates(rng: np.random.Generator, lo: str, hi: str, n: int) -> np.ndarray:
    a, b = np.datetime64(lo, "D"), np.datetime64(hi, "D")
    return a + rng.integers(0, (b - a).astype(int) + 1, n).astype("timedelta64[D]")


def _onset(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> np.ndarray:
    """Dishonest actors turn bad at different times: a third from the start, the rest later."""
    later = rng.integers(first_year, last_year + 1, n)
    return np.where(rng.random(n) < 0.35, first_year - 1, later)


def make_parties(rng: np.random.Generator, scale: float, first_year: int, last_year: int,
                 reserve: int, seller_reserve: int = 0) -> pd.DataFrame:
    """The parties; ``reserve`` (split as buyers' kinds) and ``seller_reserve`` (split as
    sellers' kinds) of them never trade honestly.

    Reserved parties have no activity, so only a phantom-buyer event (``reserve == "buyer"``)
    or a newcomer's event (``"seller"``) ever names them; they are drawn like the rest and
    numbered among them, so their ids look like any other. A reserved seller is a shell set
    up for its scheme: the truth marks it dishonest from the start.
    """
    frames = []
    for kind, p_buy, p_sell in zip(PARTY_KINDS, BUYER_KIND_P, SELLER_KIND_MAX_P, strict=True):
        n_full, n_min = _PARTY_POOL[kind]
        n_keep = max(n_min, round(n_full * scale))
        n_buy = int(np.ceil(reserve * p_buy)) + 10  # margin for a small kind's chance
        n_sell = int(np.ceil(seller_reserve * p_sell)) + 10 if seller_reserve else 0
        n = n_keep + n_buy + n_sell
        # Heavy-tailed activity: a few sellers and buyers sign most contracts.
        activity = rng.pareto(1.3, n) + 0.05
        order = rng.permutation(n)
        activity[order[n_keep:]] = 0.0
        role = np.full(n, "", dtype=object)
        role[order[n_keep:n_keep + n_buy]] = "buyer"
        role[order[n_keep + n_buy:]] = "seller"
        integrity = rng.beta(7, 1.2, n)
        onset = _onset(rng, n, first_year, last_year)
        shell = role == "seller"
        integrity[shell] = rng.uniform(0.05, 0.6, int(shell.sum()))
        onset[shell] = first_year - 1
        frames.append(pd.DataFrame({
            "party_id": _ids(PARTY_PREFIX[kind], n, 7),
            "kind": kind,
            "region_idx": rng.choice(len(REGION_CODES), n, p=REGION_P),
            "activity": activity,
            "integrity": integrity,
            "dishonest": integrity < 0.6,
            "onset_year": onset,
            "reserve": role,
        }))
    return pd.concat(frames, ignore_index=True)


def make_institutions(rng: np.random.Generator, scale: float, end: np.datetime64
                      ) -> pd.DataFrame:
    """National institutions match 2015's 453 and 2020's 420; about a thousand in all."""
    n_nat15 = max(4, round(NATIONAL_INSTITUTIONS[2015] * scale))
    n_exit = max(1, round(80 * scale))
    n_new = max(0, n_exit - (n_nat15 - round(NATIONAL_INSTITUTIONS[2020] * scale)))
    n_other = max(4, round(580 * scale))
    n = n_nat15 + n_new + n_other
    level = np.array(["national"] * (n_nat15 + n_new) + ["provincial"] * (n_other // 2)
                     + ["other"] * (n_other - n_other // 2), dtype=object)
    designated = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    designated[:n_nat15] = _dates(rng, "2008-01-01", "2014-12-31", n_nat15)
    designated[n_nat15:n_nat15 + n_new] = _dates(rng, "2016-01-01", "2019-12-31", n_new)
    founded = _dates(rng, "1990-01-01", "2013-12-31", n)
    founded = np.where(np.isnat(designated), founded, np.minimum(founded, designated - 365))
    # The later-founded non-national institutions appear through the period.
    young = rng.random(n) < 0.3
    young &= np.isnat(designated)
    founded[young] = _dates(rng, "2011-01-01", "2020-06-30", int(young.sum()))
    integrity = rng.beta(3, 1.4, n)
    capability = rng.beta(2.2, 2.0, n)
    status = np.full(n, "active", dtype=object)
    status_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    # Exits 2016–2020 fall on the national institutions doing least (low capability means
    # few facilitated contracts); warnings come later, from conduct records (``records``).
    nat = np.arange(n_nat15)
    weak = (1 - capability[nat]) + rng.random(n_nat15) * 0.6
    exit_idx = nat[np.argsort(-weak)[:n_exit]]
    status[exit_idx] = "exited"
    status_date[exit_idx] = _dates(rng, "2016-03-01", "2020-10-31", n_exit)
    df = pd.DataFrame({
        "institution_id": _ids("I", n, 6),
        "institution_type": rng.choice(INSTITUTION_TYPES, n, p=_INSTITUTION_TYPE_P),
        "region_idx": rng.choice(len(REGION_CODES), n, p=REGION_P),
        "level": level,
        "founded_date": founded,
        "designated_date": designated,
        "status": status,
        "status_date": status_date,
        "status_basis": None,
        "integrity": integrity,
        "capability": capability,
        "dishonest": integrity < 0.5,
    })
    df["name"] = [f"技术转移机构{i[1:]}" for i in df["institution_id"]]
    df["region"] = REGION_CODES[df["region_idx"].to_numpy()]
    # Facts after the export date are unknown: unborn institutions vanish, later events revert.
    df = df[df["founded_date"] <= end].reset_index(drop=True)
    late_status = df["status_date"] > end
    df.loc[late_status, ["status"]] = "active"
    df.loc[late_status, ["status_date"]] = np.datetime64("NaT")
    late_des = df["designated_date"] > end
    df.loc[late_des, "level"] = "provincial"
    df.loc[late_des, "designated_date"] = np.datetime64("NaT")
    exit_or_end = np.where(df["status"] == "exited", df["status_date"], end)
    df["active_until"] = pd.to_datetime(exit_or_end).to_numpy().astype("datetime64[D]")
    return df


def make_brokers(rng: np.random.Generator, scale: float, institutions: pd.DataFrame,
                 end: np.datetime64) -> pd.DataFrame:
    """Over 10,000 brokers by 2020, most affiliated with an institution, certification rising."""
    n = max(10, round(12_500 * scale))
    years = np.arange(2008, 2021)
    w = np.linspace(1, 4, len(years))
    cert_year = rng.choice(years, n, p=w / w.sum())
    certified = (cert_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + \
        rng.integers(0, 365, n).astype("timedelta64[D]")
    affiliated = rng.random(n) < 0.8
    inst_w = (institutions["capability"].to_numpy() + 0.2)
    inst_idx = rng.choice(len(institutions), n, p=inst_w / inst_w.sum())
    # Integrity is the broker's own: tying it to the institution's would let the broker's
    # province (where its institution sits) give dishonesty away in a small market.
    integrity = 0.5 * rng.beta(4, 1.4, n) + 0.5 * rng.beta(3, 1.4, n)
    region = np.where(affiliated, institutions["region"].to_numpy()[inst_idx],
                      rng.choice(REGION_CODES, n, p=REGION_P))
    df = pd.DataFrame({
        "broker_id": _ids("B", n, 7),
        "institution_id": np.where(affiliated, institutions["institution_id"].to_numpy()[inst_idx],
                                   None),
        "inst_idx": np.where(affiliated, inst_idx, -1),
        "cert_level": rng.choice(["junior", "intermediate", "senior"], n, p=[0.6, 0.3, 0.1]),
        "region": region,
        "certified_date": certified,
        "training_hours": np.clip(np.round(rng.gamma(4, 25, n)), 8, 1200).astype(np.int64),
        "integrity": integrity,
        "capability": rng.beta(2, 2, n),
        "dishonest": integrity < 0.5,
    })
    # A broker affiliated with an institution founded after the certificate joins it later;
    # certification cannot precede the affiliation's founding in the record.
    founded = institutions["founded_date"].to_numpy()[np.maximum(df["inst_idx"], 0)]
    df["certified_date"] = np.where(affiliated, np.maximum(certified, founded), certified)
    return df[df["certified_date"] <= end].reset_index(drop=True)


def make_actors(rng: np.random.Generator, scale: float, first_year: int, last_year: int,
                reserve: int, seller_reserve: int = 0) -> Actors:
    end = np.datetime64(f"{last_year}-12-31", "D")
    parties = make_parties(rng, scale, first_year, last_year, reserve, seller_reserve)
    institutions = make_institutions(rng, scale, end)
    institutions["onset_year"] = _onset(rng, len(institutions), first_year, last_year)
    brokers = make_brokers(rng, scale, institutions, end)
    brokers["onset_year"] = _onset(rng, len(brokers), first_year, last_year)
    return Actors(parties=parties, institutions=institutions, brokers=brokers)
