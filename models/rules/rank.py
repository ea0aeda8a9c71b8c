"""Ordering a review list (审查排序) by contract rule hits beside the model.

What a hit does to a contract's tier is :mod:`models.rules.contract_tier`. Ordering the review
list is a different question: an office reviews a fixed number of contracts a year, and at
national scale rule hits outnumber that capacity many times over, so "any hit first" fills the
list with the rules' least precise hits (measured on the full-scale market: recall of planted
contracts fell from 0.17 to 0.04). Instead each rule's
precision is measured on the training period (:func:`rule_precision`: the share of its hits
later found false), a hit vouches for that probability (:func:`rule_floor`), and a contract is
ranked by the higher of the model's calibrated probability and that floor
(:func:`combined_score`). A precise rule lifts its hits above the model's doubts; a noisy one
lifts nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRIOR_WEIGHT = 50.0  # contracts' worth of the base rate a rule's precision is shrunk toward


def rule_precision(hit_frame: pd.DataFrame, y: np.ndarray, period: np.ndarray
                   ) -> dict[str, float]:
    """Per rule, the share of its hits in ``period`` (row mask) that turned out bad, shrunk
    toward the period's base rate by :data:`PRIOR_WEIGHT` contracts so a rule with a handful
    of hits is not taken at its luckiest word. Measured on the training period only."""
    y = np.asarray(y, dtype=np.float64)
    base = float(y[period].mean()) if period.any() else 0.0
    out: dict[str, float] = {}
    for rule_id, group in hit_frame.groupby("rule_id", sort=True):
        rows = group["row"].to_numpy(dtype=np.int64)
        rows = rows[period[rows]]
        out[str(rule_id)] = (float(y[rows].sum()) + PRIOR_WEIGHT * base) / (
            len(rows) + PRIOR_WEIGHT)
    return out


def rule_floor(hit_frame: pd.DataFrame, n_rows: int, precision: dict[str, float]) -> np.ndarray:
    """Per row 0..n_rows-1: the highest measured precision among the rules it hits, 0 without a
    hit. This is the probability the rules alone vouch for, on the model's own scale."""
    floor = np.zeros(n_rows, dtype=np.float64)
    if len(hit_frame):
        rows = hit_frame["row"].to_numpy(dtype=np.int64)
        values = hit_frame["rule_id"].map(precision).fillna(0.0).to_numpy(dtype=np.float64)
        np.maximum.at(floor, rows, values)
    return floor


def combined_score(model_score: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The higher of the model's calibrated probability and the rules' floor."""
    return np.maximum(np.clip(np.asarray(model_score, dtype=np.float64), 0.0, 1.0),
                      np.asarray(floor, dtype=np.float64))
