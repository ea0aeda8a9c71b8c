"""What a rule hit does to a warning (预警等级): raise the tier, order the review list.

Risk tiers are ordered ``low < medium < high`` and share their names with rule severities,
so a hit can only ever raise a tier, never lower what the model said.

Ordering rows for review:

* by rules alone, :func:`rule_rank`: the highest severity hit first, then the number of hits;
  rows without a hit score 0 and come last;
* combined with the model, :func:`combined_score`: any hit outranks no hit, a higher
  severity outranks a lower one, and within the same severity (or none) the model's score
  decides. The rules put a case in front of an officer; the model orders the rest.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from models.rules.evaluate import Hit
from models.rules.spec import SEVERITIES, Severity

Tier = Severity
TIERS: tuple[Tier, ...] = SEVERITIES  # ascending
LEVEL: dict[str, int] = {s: i + 1 for i, s in enumerate(SEVERITIES)}  # 0 = no hit


def raise_tier(tier: Tier, hits: Iterable[Hit]) -> Tier:
    """The higher of the model's tier and the hits' severities."""
    return TIERS[max([TIERS.index(tier), *(TIERS.index(h.severity) for h in hits)])]


def rule_rank(hit_frame: pd.DataFrame, n_rows: int) -> np.ndarray:
    """Per row 0..n_rows-1 of the evaluated frame: ``level + hits / (hits + 1)``.

    ``level`` is 1, 2, 3 for a highest hit of low, medium, high severity (0 without a hit);
    the fraction, below 1, orders rows of the same level by their number of hits.
    """
    level = np.zeros(n_rows, dtype=np.float64)
    count = np.zeros(n_rows, dtype=np.float64)
    if len(hit_frame):
        rows = hit_frame["row"].to_numpy(dtype=np.int64)
        np.maximum.at(level, rows, hit_frame["severity"].map(LEVEL).to_numpy(dtype=np.float64))
        np.add.at(count, rows, 1.0)
    return level + count / (count + 1.0)


def combined_score(model_score: np.ndarray, rule_score: np.ndarray) -> np.ndarray:
    """``2 * severity level + model score`` (a probability in [0, 1]).

    The level is the integer part of :func:`rule_rank`; spacing levels by 2 keeps a model
    score of exactly 1 below any row of the next level. Higher = reviewed first.
    """
    p = np.clip(np.asarray(model_score, dtype=np.float64), 0.0, 1.0)
    return 2.0 * np.floor(np.asarray(rule_score, dtype=np.float64)) + p
