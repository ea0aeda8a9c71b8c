"""Severity raises a tier and orders the review list: rules first, then the model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.rules.evaluate import Hit
from models.rules.rank import combined_score, raise_tier, rule_rank


def _hit(severity: str) -> Hit:
    return Hit("r", severity, "理由", "reason", "C1")  # type: ignore[arg-type]


def test_a_hit_raises_the_tier_and_never_lowers_it() -> None:
    assert raise_tier("low", []) == "low"
    assert raise_tier("low", [_hit("medium")]) == "medium"
    assert raise_tier("medium", [_hit("low"), _hit("high")]) == "high"
    assert raise_tier("high", [_hit("low")]) == "high"


def test_rows_rank_by_severity_then_by_number_of_hits_then_the_model() -> None:
    hits = pd.DataFrame({"row": [0, 0, 1, 2, 2, 2, 4],
                         "severity": ["low", "medium", "high", "low", "low", "low", "medium"]})
    rank = rule_rank(hits, 5)
    # row 1 (one high) > row 0 (medium + low) > row 4 (one medium) > row 2 (3 low) > row 3
    assert np.argsort(-rank, kind="stable").tolist() == [1, 0, 4, 2, 3]
    assert rank[3] == 0 and rule_rank(hits.iloc[:0], 2).tolist() == [0.0, 0.0]
    model = np.array([0.1, 0.2, 0.0, 1.0, 0.9])
    combined = combined_score(model, rank)
    # severity first (row 1 high; rows 0, 4 medium ordered by the model), then the model
    assert np.argsort(-combined, kind="stable").tolist() == [1, 4, 0, 2, 3]
    assert combined[3] < combined[2]  # a model score of 1 stays below any hit
