"""Contract anomaly: review-capacity metrics and the leakage-free scores the credit model reads.

Irregular contracts are rare, so AUC flatters; what an office cares about is how many of the
contracts it can actually review turn out irregular. Hence average precision (against the
base rate) and precision at the top k per registration office, k = its review capacity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.booster import fit_booster, monotone_vector
from models.fit import downsample_goods
from models.metrics import (
    average_precision,
    precision_at_k,
    precision_at_k_by_group,
)
from models.risk_model import RiskModel
from models.split import group_kfold


def anomaly_metrics(
    y: np.ndarray, p: np.ndarray, offices: np.ndarray | None, per_office_k: int
) -> dict[str, float]:
    """AP, its lift over the base rate, and precision when each office reviews its top k."""
    y = np.asarray(y).astype(int)
    base = float(y.mean())
    ap = average_precision(y, p)
    out = {
        "anomaly_base_rate": base,
        "anomaly_ap": ap,
        "anomaly_ap_lift": ap / base if base else np.nan,
    }
    if offices is not None:
        n_offices = int(pd.Series(offices).nunique())
        out["anomaly_offices"] = float(n_offices)
        out["anomaly_precision_at_k_per_office"] = precision_at_k_by_group(
            y, p, offices, per_office_k
        )
        k = per_office_k * n_offices
    else:
        k = per_office_k
    out["anomaly_k"] = float(k)
    out["anomaly_precision_at_k"] = precision_at_k(y, p, k)
    top = np.argsort(-np.asarray(p, dtype=float), kind="mergesort")[:k]
    out["anomaly_recall_at_k"] = float(y[top].sum() / y.sum()) if y.sum() else float("nan")
    return out


def scores_without_leakage(
    model: RiskModel,
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    rounds: int,
    params: Mapping,
    max_train_rows: int | None,
    groups: np.ndarray,
    folds: int = 2,
    seed: int = 0,
) -> np.ndarray:
    """Anomaly probability of every contract, out of sample for the model's own training rows.

    Rows outside ``train`` are scored by the model itself; training rows get predictions
    from boosters refitted (same parameters, same number of trees, same share of sampled
    goods) on the other folds, so entity aggregates built on them do not carry the training
    labels into the credit model. Folds keep each of ``groups`` (the spec's cluster: the party
    that would run a scheme, :data:`models.specs.ANOMALY`) whole: a scheme's other contracts,
    which share its actors and amounts, never train the booster that scores it.
    """
    p = model.predict_matrix(x)
    rows = np.flatnonzero(train)
    mono = monotone_vector(model.features, model.monotone, tuple(model.encoder.levels))
    # refits sample goods at the main model's rate, so their log-odds share its calibration
    bads = int(y[rows].sum())
    goods = max(len(rows) - bads, 1)
    rate = 1.0 if max_train_rows is None else min(1.0, max(max_train_rows - bads, 1) / goods)
    for k, (fit_i, score_i) in enumerate(group_kfold(y[rows], groups[rows], folds, seed)):
        part = y[rows[fit_i]]
        cap = int(part.sum() + np.ceil(rate * (len(part) - part.sum())))
        fit_rows = rows[fit_i][downsample_goods(part, cap, seed + k)]
        booster = fit_booster(
            x[fit_rows],
            y[fit_rows],
            None,
            None,
            model.features,
            model.encoder.categorical_index,
            mono,
            params,
            rounds=rounds,
            seed=seed,
        )
        raw = booster.predict(x[rows[score_i]], raw_score=True, num_threads=model.threads)
        p[rows[score_i]] = model.platt.proba(raw)
    return p
