"""What the register and the science departments record after the contracts: conduct records
(from audited fraud events, misreported annual reports and background misconduct) and the
institutions' annual reports. Kept apart from :mod:`features.synthetic.market`, which draws
the contracts, so that each reads on its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.synthetic.actors import Actors
from features.synthetic.fraud import random_days
from features.synthetic.patterns import CONDUCT_OF, MISREPORT
from features.synthetic.spec import MarketSpec, year_of

# False registrations and shells' outsized deals: the seller files them and answers for them.
_SELLER_ANSWERS = ("threshold", "phantom_buyer", "newcomer_outsized")
WARN_AFTER = 2  # conduct records confirmed in a year that earn a warning at the assessment


def conduct_from_events(c: pd.DataFrame, actors: Actors, spec: MarketSpec) -> pd.DataFrame:
    """One record per detected event for each subject involved: institution, broker, seller."""
    irr = c[c["detected"] & (c["detect_date"] <= spec.end)]
    ev = irr.groupby("event_id").agg(
        pattern=("pattern", "first"), inst_idx=("inst_idx", "first"),
        broker_idx=("broker_idx", "first"), seller_idx=("seller_idx", "first"),
        occurred=("reg", "min"), confirmed=("detect_date", "first"),
        total=("amount", "sum"), contract_id=("contract_id", "first"))
    severity = np.select([ev["total"] > 5e6, ev["total"] > 1e6], ["severe", "serious"], "minor")
    base = pd.DataFrame({
        "conduct_kind": ev["pattern"].map(CONDUCT_OF).to_numpy(),
        "severity": severity, "occurred_date": ev["occurred"].to_numpy(),
        "confirmed_date": ev["confirmed"].to_numpy(),
        "related_contract_id": ev["contract_id"].to_numpy(),
        "source": np.where(ev["pattern"] == "threshold", "tax_bureau", "science_dept"),
    })
    frames = []
    for kind, col, ids in (
        ("institution", "inst_idx", actors.institutions["institution_id"].to_numpy()),
        ("broker", "broker_idx", actors.brokers["broker_id"].to_numpy()),
        ("party", "seller_idx", actors.parties["party_id"].to_numpy()),
    ):
        idx = ev[col].to_numpy()
        keep = idx >= 0
        if kind == "party":  # sellers answer for schemes they ran alone or registered falsely
            keep &= (ev["inst_idx"].to_numpy() < 0) | np.isin(ev["pattern"], _SELLER_ANSWERS)
        f = base[keep].copy()
        f.insert(0, "subject_id", ids[idx[keep]])
        f.insert(0, "subject_kind", kind)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def background_conduct(rng: np.random.Generator, actors: Actors, spec: MarketSpec) -> pd.DataFrame:
    """Breach-of-contract and shared research-integrity records, more often for the less honest."""
    frames = []
    for kind, df, key, since in (
        ("institution", actors.institutions, "institution_id", "founded_date"),
        ("broker", actors.brokers, "broker_id", "certified_date"),
    ):
        for y in range(spec.first_year, spec.last_year + 1):
            alive = df[since].to_numpy() <= np.datetime64(f"{y}-12-31")
            lam = alive * (0.02 + 0.10 * (1 - df["integrity"].to_numpy()))
            k = rng.poisson(lam)
            idx = np.repeat(np.arange(len(df)), k)
            occurred = random_days(rng, np.full(len(idx), y), np.full(12, 1 / 12))
            occurred = np.maximum(occurred, df[since].to_numpy()[idx])
            research = rng.random(len(idx)) < (0.15 if kind == "broker" else 0.05)
            frames.append(
                pd.DataFrame(
                    {
                        "subject_kind": kind,
                        "subject_id": df[key].to_numpy()[idx],
                        "conduct_kind": np.where(
                            research, "research_integrity", "breach_of_contract"
                        ),
                        "severity": rng.choice(["minor", "serious"], len(idx), p=[0.85, 0.15]),
                        "occurred_date": occurred,
                        "confirmed_date": occurred
                        + rng.integers(30, 240, len(idx)).astype("timedelta64[D]"),
                        "related_contract_id": None,
                        "source": np.where(
                            research, "research_integrity_platform", "market_regulator"
                        ),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def annual_reports(rng: np.random.Generator, actors: Actors, c: pd.DataFrame, spec: MarketSpec
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annual reports per active institution, and conduct records for detected misreports.

    Honest institutions report the register's figures within a few percent; dishonest ones
    past their onset inflate them 1.3–3 times (the register-versus-report gap features see).
    """
    inst = actors.institutions
    fac = c[c["inst_idx"] >= 0]
    fac_year = year_of(fac["reg"])
    reg_stats = fac.assign(disputed=fac["status"] == "disputed").groupby(
        [fac["inst_idx"].to_numpy(), fac_year]).agg(
        n=("amount", "size"), amount=("amount", "sum"), disputed=("disputed", "sum"))
    rows = []
    for y in range(spec.first_year, spec.last_year + 1):
        alive = (inst["founded_date"].to_numpy() <= np.datetime64(f"{y}-06-30")) & (
            inst["active_until"].to_numpy() >= np.datetime64(f"{y}-12-31"))
        idx = np.flatnonzero(alive)
        rows.append(pd.DataFrame({"inst_idx": idx, "report_year": y}))
    r = pd.concat(rows, ignore_index=True)
    m = len(r)
    key = pd.MultiIndex.from_arrays([r["inst_idx"], r["report_year"]])
    stats = reg_stats.reindex(key).fillna(0.0)
    i = r["inst_idx"].to_numpy()
    cap = inst["capability"].to_numpy()[i]
    lying = (
        inst["dishonest"].to_numpy()[i]
        & (r["report_year"].to_numpy() >= inst["onset_year"].to_numpy()[i])
        & (rng.random(m) < 0.9)
    )
    factor = np.where(lying, rng.uniform(1.3, 3.0, m), rng.uniform(0.95, 1.05, m))
    staff = np.maximum(3, np.round(rng.lognormal(np.log(15 + 60 * cap), 0.4))).astype(np.int64)
    trained_share = np.clip(rng.normal(0.55 + 0.35 * cap, 0.1), 0.05, 1.0)
    n_reg = stats["n"].to_numpy()
    r["submitted"] = (r["report_year"].to_numpy() - 1969).astype("datetime64[Y]").astype(
        "datetime64[D]") + (59 + rng.integers(0, 60, m)).astype("timedelta64[D]")
    reports = pd.DataFrame(
        {
            "report_id": np.char.add(
                np.char.add("R", inst["institution_id"].to_numpy()[i].astype(str)),
                r["report_year"].to_numpy().astype(str),
            ).astype(object),
            "institution_id": inst["institution_id"].to_numpy()[i],
            "report_year": r["report_year"].to_numpy(),
            "submitted_date": r["submitted"].to_numpy(),
            "staff": staff,
            "trained_staff": np.round(staff * trained_share).astype(np.int64),
            "contracts_reported": np.round(n_reg * factor).astype(np.int64),
            "amount_reported_yuan": np.round(stats["amount"].to_numpy() * factor, 2),
            "service_revenue_yuan": np.round(
                stats["amount"].to_numpy() * rng.uniform(0.01, 0.05, m) + staff * 2e5 * cap, 2
            ),
            "clients_served": (
                np.round(n_reg * rng.uniform(0.6, 1.0, m)) + rng.poisson(5, m)
            ).astype(np.int64),
            # Complaints follow what clients see: the volume served and the disputes.
            "complaints": rng.poisson(
                0.3 + 0.02 * n_reg + 1.5 * stats["disputed"].to_numpy()).astype(np.int64),
        }
    )
    known = reports["submitted_date"].to_numpy() <= spec.end
    caught = known & lying & (rng.random(m) < MISREPORT.detection_p)
    confirmed = (
        reports["submitted_date"].to_numpy() + rng.integers(60, 300, m).astype("timedelta64[D]")
    )
    caught &= confirmed <= spec.end
    conduct = pd.DataFrame({
        "subject_kind": "institution", "subject_id": reports["institution_id"].to_numpy()[caught],
        "conduct_kind": MISREPORT.conduct_kind,
        "severity": np.where(factor[caught] > 2, "serious", "minor"),
        "occurred_date": reports["submitted_date"].to_numpy()[caught],
        "confirmed_date": confirmed[caught], "related_contract_id": None,
        "source": "science_dept",
    })
    return reports[known].reset_index(drop=True), conduct


def assess_institutions(rng: np.random.Generator, inst: pd.DataFrame, conduct: pd.DataFrame,
                        spec: MarketSpec) -> None:
    """The annual assessment: a warning in spring for ``WARN_AFTER`` or more conduct records
    confirmed the year before, so a warning is read from the record, never from the truth.

    An exit stays the last word; otherwise the latest warning is the institution's status.
    """
    rec = conduct[conduct["subject_kind"] == "institution"]
    per_year = rec.groupby([rec["subject_id"].to_numpy(), year_of(rec["confirmed_date"])]).size()
    hit = per_year[per_year >= WARN_AFTER].reset_index()
    hit.columns = ["institution_id", "year", "n"]
    spring = (hit["year"].to_numpy() + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    hit["date"] = spring + (59 + rng.integers(0, 61, len(hit))).astype("timedelta64[D]")
    hit = hit[hit["date"].to_numpy() <= spec.end]
    latest = hit.groupby("institution_id")["date"].max()
    when = latest.reindex(inst["institution_id"]).to_numpy().astype("datetime64[D]")
    warn = ~np.isnat(when) & (inst["status"].to_numpy() != "exited")
    inst.loc[warn, "status"] = "warned"
    inst.loc[warn, "status_date"] = when[warn]
