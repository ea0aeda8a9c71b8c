"""Trying a rule set on history (规则试运行): the tables a reviewer reads before switching on.

Pure functions over hit tables (``id``, ``date``, ``rule_id``, ``tier``, ``entity`` per hit;
see :mod:`models.rules.evaluate`) and the standard tables, the same for both kinds of rule:
hits per month, how many hits were later found irregular, and how many the model's review
list holds anyway. A hit contract counts as later found irregular when its status became
``false_found`` (now or in an earlier version of the record) or a conduct record names it as
the related contract; an institution or broker hit (of an entity warning rule, or of a contract
rule file's rule over institution or broker features) when a conduct record of the subject was
confirmed in the 12 months after the as-of date of the hit (the credit label, ``y_12m``).

Entity warning rules are also read per warning, not only per rule: an entity gets one warning,
of the most severe tier that fires, and a regulator works the warnings, so what a reviewer must
see is how many entities each tier warns (the warned share of everyone scored) and how many of
them later had a confirmed bad record (the tier's precision), beside the base rate of all
scored entities (:func:`tier_summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import LABEL_MONTHS
from models.rules.tier import Tier

SUMMARY_COLUMNS = ["rule_id", "entity", "tier", "hits", "irregular", "precision",
                   "overlap"]
TIER_COLUMNS = ["entity", "tier", "entities", "share", "irregular", "precision"]
WARNED, SCORED = "warned", "scored"  # tier_summary's rows beside the four tiers


@dataclass(frozen=True)
class RuleLine:
    """One row of a try's summary: a rule's hits on one kind of subject. A contract rule reads
    one kind; an entity warning rule warns institutions and brokers alike, and a reviewer
    reads its precision on each."""

    rule_id: str
    entity: str  # contract | institution | broker
    tier: Tier


def months(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    return [f"{p:%Y-%m}" for p in pd.period_range(first, last, freq="M")]


def month_of(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m")


def irregular_contracts(contracts: pd.DataFrame, conduct: pd.DataFrame,
                        history: pd.DataFrame | None = None) -> set[str]:
    """Contracts found false (in any version of the record) or named by a conduct record."""
    versions = [contracts] if history is None or not len(history) else [contracts, history]
    found = set()
    for v in versions:
        found |= set(v.loc[v["status"] == "false_found", "contract_id"].astype("str"))
    related = conduct["related_contract_id"].dropna().astype("str")
    return found | set(related)


def later_conduct(hits: pd.DataFrame, conduct: pd.DataFrame, entity: str) -> np.ndarray:
    """Per entity hit (``id``, ``date`` = as-of): a conduct record of the subject confirmed in
    ``(as_of, as_of + 12 months]``."""
    if not len(hits):
        return np.zeros(0, dtype=bool)
    mine = conduct[conduct["subject_kind"] == entity]
    records = pd.DataFrame({"id": mine["subject_id"].astype("str").to_numpy(),
                            "confirmed": pd.to_datetime(mine["confirmed_date"]).to_numpy()})
    left = pd.DataFrame({"i": np.arange(len(hits)), "id": hits["id"].astype("str").to_numpy(),
                         "as_of": pd.to_datetime(hits["date"]).to_numpy()})
    pairs = left.merge(records, on="id", how="inner")
    horizon = pairs["as_of"] + pd.DateOffset(months=LABEL_MONTHS)
    ok = (pairs["confirmed"] > pairs["as_of"]) & (pairs["confirmed"] <= horizon)
    out = np.zeros(len(hits), dtype=bool)
    out[pairs.loc[ok, "i"].to_numpy()] = True
    return out


def hits_per_month(hits: pd.DataFrame, rule_ids: Sequence[str], span: Sequence[str]
                   ) -> pd.DataFrame:
    """Months (rows) by rules (columns), hit counts; every month and rule shown, zeros too."""
    counts = pd.crosstab(month_of(hits["date"]), hits["rule_id"]) if len(hits) else None
    table = pd.DataFrame(0, index=pd.Index(list(span), name="month"), columns=list(rule_ids))
    if counts is not None:
        table = table.add(counts.reindex(index=table.index, columns=table.columns,
                                         fill_value=0), fill_value=0)
    return table.astype(np.int64)


def summary(hits: pd.DataFrame, lines: Sequence[RuleLine]) -> pd.DataFrame:
    """Per line: hits, later irregular, precision, and the share of hits the model's review
    list also holds (``overlap``; NaN when there is no model or for institutions and brokers).

    ``hits`` carries boolean ``irregular`` and ``reviewed`` (NaN: not known) per hit.
    """
    rows = []
    for line in lines:
        mine = hits[(hits["rule_id"] == line.rule_id) & (hits["entity"] == line.entity)]
        n = len(mine)
        irregular = int(mine["irregular"].sum()) if n else 0
        reviewed = pd.to_numeric(mine["reviewed"], errors="coerce").dropna() if n else None
        rows.append({
            "rule_id": line.rule_id,
            "entity": line.entity,
            "tier": line.tier,
            "hits": n,
            "irregular": irregular,
            "precision": irregular / n if n else np.nan,
            "overlap": float(reviewed.mean()) if reviewed is not None and len(reviewed)
            else np.nan,
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def format_summary(table: pd.DataFrame) -> str:
    """The summary as printed and kept: percentages, '-' where not known."""
    out = table.copy()
    for col in ("precision", "overlap"):
        out[col] = out[col].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")
    return out.to_string(index=False)


def tier_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """Per kind of subject and tier: warnings, their share of everyone scored, how many were
    later irregular and the precision; then every warning (``warned``) and everyone scored
    (``scored``: the share is 1 and the precision is the base rate).

    ``scored`` has one row per entity and as-of scored: ``entity`` (its kind), ``tier`` (of
    its warning; None or NaN: not warned) and boolean ``irregular``. Counts are of entity and
    as-of pairs, so a month-end try counts an entity once a month.
    """
    rows = []
    for entity in dict.fromkeys(scored["entity"]):
        mine = scored[scored["entity"] == entity]
        tiers = mine["tier"].map(lambda t: None if pd.isna(t) else Tier(t).value)
        parts = [(t.value, (tiers == t.value).to_numpy()) for t in Tier]  # red first
        parts += [(WARNED, tiers.notna().to_numpy()), (SCORED, np.ones(len(mine), bool))]
        for name, chosen in parts:
            n, bad = int(chosen.sum()), int(mine["irregular"].to_numpy()[chosen].sum())
            rows.append({"entity": entity, "tier": name, "entities": n,
                         "share": n / len(mine) if len(mine) else np.nan, "irregular": bad,
                         "precision": bad / n if n else np.nan})
    return pd.DataFrame(rows, columns=TIER_COLUMNS)


def format_tiers(table: pd.DataFrame) -> str:
    """The tier summary as printed and kept: percentages, '-' where not known."""
    out = table.copy()
    for col in ("share", "precision"):
        out[col] = out[col].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")
    return out.to_string(index=False)


def tier_metrics(table: pd.DataFrame) -> dict[str, float]:
    """``tier.<tier>.<entity>.share`` and ``.precision`` for MLflow (known values only)."""
    return {f"tier.{r.tier}.{r.entity}.{k}": float(getattr(r, k)) for r in table.itertuples()
            for k in ("share", "precision") if not pd.isna(getattr(r, k))}
