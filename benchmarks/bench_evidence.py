"""Benchmark: does an entity's score follow the flagged contracts it takes on?

On a copy of a trained home's market, brokers across the risk range each receive, one at a
time (the others as they were), a burst of
contracts built the way wash trading looks (a pair of parties, one of them on record for
dishonesty, selling the same round amount just above a subsidy threshold back and forth on the
last registration day), appended to the contracts table in the standard columns. The champion
anomaly model scores them as the registration check would; then each broker and its
institution are scored three ways at that day, and ranked within their kind (1 = riskiest):

- **before**: the market as it was;
- **month-end**: the market with the burst, every feature rebuilt (what the next batch run
  sees: the burst also changes counts, concentration and amounts);
- **same day**: the features as they were, with the burst's registration-time scores as
  evidence (what the event re-score writes, :mod:`pipelines.scoring.events`).

    python -m benchmarks.bench_evidence [--home DIR] [--brokers 10] [--contracts 6]

``--home``: a home with a curated store and both champions (default: the settings' home, e.g.
after ``make demo``). Writes the ``evidence`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import write_section
from features.point_in_time.history import prepare
from features.settings import Settings, get_settings
from features.standard.thresholds import SUBSIDY_THRESHOLDS_YUAN
from models.rules.contract_tier import TierBands
from models.scoring import (
    SCORE_COLUMNS,
    EntityScore,
    score_entities,
)
from pipelines.scoring.adhoc import read_store
from pipelines.scoring.batch import Models, load_task, scoring_features

Key = tuple[str, str]


@dataclass(frozen=True)
class Standing:
    probability: float
    rank: int  # 1 = the riskiest of its kind


@dataclass(frozen=True)
class Row:
    kind: str
    entity_id: str
    burst: int
    median_p: float
    red: int
    before: Standing
    month_end: Standing
    same_day: Standing


def standings(scores: list[EntityScore]) -> dict[Key, Standing]:
    out: dict[Key, Standing] = {}
    for kind in ("institution", "broker"):
        mine = sorted((s for s in scores if s.kind == kind), key=lambda s: -s.probability)
        for s in mine:
            out[(kind, s.entity_id)] = Standing(
                s.probability, 1 + sum(o.probability > s.probability for o in mine))
    return out


def score_at(models: Models, tables: dict[str, pd.DataFrame], day: pd.Timestamp,
             checked: pd.DataFrame | None = None) -> tuple[list[EntityScore], pd.DataFrame]:
    features, later = scoring_features(models.scorer, tables, prepare(tables), day, day)
    return score_entities(models.scorer, features, later, day, checked), later


def burst(tables: dict[str, pd.DataFrame], broker: str, institution: str, n: int,
          day: pd.Timestamp, k: int) -> pd.DataFrame:
    """``n`` contracts of a wash pair for ``broker``: a party on record and one more, the same
    amount (just above a subsidy threshold, round) back and forth, registered on ``day``."""
    c = tables["contracts"]
    records = tables["conduct_records"]
    on_record = sorted(records.loc[records["subject_kind"] == "party", "subject_id"].astype(str))
    parties = sorted(set(c["seller_id"].astype(str)) - set(on_record))
    a, b = on_record[k % len(on_record)], parties[(7 * k) % len(parties)]
    template = c[c["broker_id"].astype(str) == broker].iloc[-1]
    amount = SUBSIDY_THRESHOLDS_YUAN[0] * 1.02
    rows = []
    for i in range(n):
        seller, buyer = (a, b) if i % 2 == 0 else (b, a)
        row = template.copy()
        row["contract_id"] = f"CBURST{k:03d}{i:03d}"
        row["signed_date"] = row["registered_date"] = day.date()
        row["seller_id"], row["buyer_id"] = seller, buyer
        row["institution_id"], row["broker_id"] = institution, broker
        row["amount_yuan"] = row["tech_amount_yuan"] = amount
        row["status"], row["status_date"], row["status_basis"] = "registered", None, None
        rows.append(row)
    return pd.DataFrame(rows)


def run(settings: Settings, n_brokers: int, n_contracts: int) -> tuple[list[Row], dict]:
    t0 = time.perf_counter()
    models = load_task.fn(settings, "champion")
    tables = read_store(settings, None)
    day = pd.Timestamp(pd.to_datetime(tables["contracts"]["registered_date"]).max()).normalize()
    before_scores, _ = score_at(models, tables, day)
    before = standings(before_scores)
    c = tables["contracts"]
    recent = c[(pd.to_datetime(c["registered_date"]) > day - pd.Timedelta(days=365))
               & c["broker_id"].notna() & c["institution_id"].notna()]
    home_of = recent.groupby("broker_id")["institution_id"].last().astype(str)
    brokers = sorted((k for k in before if k[0] == "broker" and k[1] in home_of.index),
                     key=lambda k: before[k].rank)
    chosen = [brokers[int(i)] for i in np.linspace(0, len(brokers) - 1, n_brokers)]
    bands = TierBands.from_settings(settings)
    rows = []
    for k, (_, b) in enumerate(chosen):  # one burst at a time: the others stay as they were
        own = burst(tables, b, home_of[b], n_contracts, day, k)
        grown = {**tables, "contracts": pd.concat([c, own], ignore_index=True)}
        after_scores, later = score_at(models, grown, day)
        mine = later[later["contract_id"].astype(str).isin(own["contract_id"])]
        p = pd.Series(models.anomaly.predict(mine), index=mine["contract_id"].astype(str))
        checked = own.assign(p_anomaly=p.reindex(own["contract_id"]).to_numpy())
        month_end = standings(after_scores)
        same_day = standings(score_at(models, tables, day, checked[SCORE_COLUMNS])[0])
        red = sum(bands.of(float(x)) == "red" for x in checked["p_anomaly"])
        for key in (("broker", b), ("institution", home_of[b])):
            rows.append(Row(key[0], key[1], len(own), float(checked["p_anomaly"].median()),
                            red, before[key], month_end[key], same_day[key]))
    facts = {"as_of": day.date().isoformat(), "seconds": time.perf_counter() - t0,
             "entities": len(before), "credit": models.scorer.credit_ref.label(),
             "anomaly": models.anomaly_ref.label(),
             "families": ", ".join(f"{k}: {v}" for k, v in
                                   sorted(models.scorer.credit.route.families.items()))}
    return rows, facts


def render(rows: list[Row], facts: dict) -> str:
    lines = [
        f"Scored at {facts['as_of']} with {facts['credit']} (contract scores: "
        f"{facts['anomaly']}); serving family per kind: {facts['families']}; "
        f"{facts['entities']} entities; {facts['seconds']:.0f} s.",
        "",
        "| entity | burst | median p | red | before p (rank) | month-end p (rank) | "
        "same day p (rank) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        def cell(s: Standing) -> str:
            return f"{s.probability:.4f} ({s.rank})"
        lines.append(f"| {r.kind} {r.entity_id} | {r.burst} | {r.median_p:.3f} | {r.red} | "
                     f"{cell(r.before)} | {cell(r.month_end)} | {cell(r.same_day)} |")
    for label, pick in (("month-end", lambda r: r.month_end), ("same day", lambda r: r.same_day)):
        rose = sum(pick(r).probability > r.before.probability for r in rows)
        fell = sum(pick(r).rank > r.before.rank for r in rows)
        lower = sum(pick(r).probability < r.before.probability for r in rows)
        lines.append(f"\n{label}: probability rose for {rose} of {len(rows)}, fell for {lower}; "
                     f"rank fell (less risky) for {fell}.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--brokers", type=int, default=10)
    ap.add_argument("--contracts", type=int, default=6)
    args = ap.parse_args()
    settings = Settings(home=args.home) if args.home else get_settings()
    rows, facts = run(settings, args.brokers, args.contracts)
    body = render(rows, facts)
    print(body)
    command = "python -m benchmarks.bench_evidence" + (
        f" --home {args.home}" if args.home else "")
    write_section("evidence", command, body)


if __name__ == "__main__":
    main()
