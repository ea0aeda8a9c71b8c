"""Contract rules in batch (批量评估): every row of a feature table against every rule of its
entity.

Conditions are vectorised over the columns. A windowed contract rule then counts, per party,
the contracts that met the condition in ``(d - window_days, d]`` with one sort and one binary
search, in registration order ``(registered_date, contract_id)``: a contract counts itself
and the qualifying contracts registered before it, never one registered after it on the same
day, because the real-time check (:mod:`models.rules.online`) had not seen that one yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import Entity
from models.rules.contract import ContractRule, ContractRules, Window
from models.rules.tier import Tier

CONTRACT_KEYS = ("contract_id", "registered_date", "seller_id", "buyer_id", "broker_id",
                 "institution_id")
HIT_COLUMNS = ["row", "id", "date", "rule_id", "tier", "zh", "en"]


@dataclass(frozen=True)
class Hit:
    """One rule firing on one contract or entity: a warning reason in both languages."""

    rule_id: str
    tier: Tier  # the rule's
    zh: str
    en: str
    subject_id: str  # contract_id, or the institution's / broker's id


def evaluate_contracts(ruleset: ContractRules, frame: pd.DataFrame) -> pd.DataFrame:
    """Hits of the contract rules, one row per (contract, rule), columns :data:`HIT_COLUMNS`.

    ``frame`` holds :data:`CONTRACT_KEYS` (the party columns only as far as windows need
    them) and the features the rules read; ``row`` is the position in ``frame``.
    """
    day = _days(frame["registered_date"])
    seq = _registration_rank(day, frame["contract_id"])
    fired = []
    for rule in ruleset.of("contract"):
        mask = rule.when.mask(frame)
        if rule.window is not None:
            mask = mask & (window_counts(mask, frame[rule.window.key], day, seq, rule.window)
                           >= rule.window.min_hits)
        fired.append((rule, mask))
    return _hits(frame, fired, frame["contract_id"], frame["registered_date"])


def evaluate_entities(ruleset: ContractRules, entity: Entity, frame: pd.DataFrame) -> pd.DataFrame:
    """Hits of the institution or broker rules on feature rows keyed ``entity_id, as_of``."""
    if entity == "contract":
        raise ValueError("contract rules are evaluated by evaluate_contracts")
    fired = [(rule, rule.when.mask(frame)) for rule in ruleset.of(entity)]
    return _hits(frame, fired, frame["entity_id"], frame["as_of"])


def window_counts(mask: np.ndarray, key: pd.Series, day: np.ndarray, seq: np.ndarray,
                  window: Window) -> np.ndarray:
    """Per row: qualifying rows of the same key in ``(day - window.days, day]`` up to and
    including this row in registration order (``seq``); 0 where the row does not qualify or
    has no key."""
    out = np.zeros(len(mask), dtype=np.int64)
    codes = pd.factorize(key.astype("str").where(key.notna()))[0]
    rows = np.flatnonzero(mask & (codes >= 0))
    if not len(rows):
        return out
    rows = rows[np.lexsort((seq[rows], codes[rows]))]  # by key, then registration order
    d = day[rows] - day[rows].min() + window.days + 1  # >= 1, so d - window.days >= 1
    span = np.int64(d.max() + 1)
    combined = codes[rows].astype(np.int64) * span + d
    lo = np.searchsorted(combined, combined - window.days, side="right")
    out[rows] = np.arange(len(rows)) - lo + 1
    return out


def _hits(frame: pd.DataFrame, fired: list[tuple[ContractRule, np.ndarray]], ids: pd.Series,
          dates: pd.Series) -> pd.DataFrame:
    parts = []
    for order, (rule, mask) in enumerate(fired):
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        values = frame.iloc[rows][list(rule.reason_names)].to_dict("records")
        texts = [rule.reasons(v) for v in values]
        parts.append(pd.DataFrame({
            "row": rows,
            "id": ids.iloc[rows].astype("str").to_numpy(),
            "date": dates.iloc[rows].to_numpy(),
            "rule_id": rule.id,
            "tier": rule.tier,
            "zh": [z for z, _ in texts],
            "en": [e for _, e in texts],
            "_order": order,
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in HIT_COLUMNS}).astype(
            {"row": np.int64})
    out = pd.concat(parts, ignore_index=True).sort_values(["row", "_order"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def _days(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(dates).to_numpy(dtype="datetime64[D]").astype(np.int64)


def _registration_rank(day: np.ndarray, contract_id: pd.Series) -> np.ndarray:
    """Each row's place in (registered_date, contract_id) order."""
    ids = pd.factorize(contract_id.astype("str"), sort=True)[0]
    order = np.lexsort((ids, day))
    rank = np.empty(len(day), dtype=np.int64)
    rank[order] = np.arange(len(day))
    return rank
