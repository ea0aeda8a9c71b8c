"""Contract anomaly: review-capacity metrics and the entity aggregates that feed the credit model.

Irregular contracts are rare, so AUC flatters; what an office cares about is how many of the
contracts it can actually review turn out irregular. Hence average precision (against the
base rate) and precision at the top k per registration office, k = its review capacity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

WINDOW_DAYS = 365


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


def aggregate_names(prefix: str) -> tuple[str, ...]:
    """Window (365 days) max, mean and sum; all-history max and sum of anomaly probabilities."""
    w = f"{WINDOW_DAYS}d"
    return (
        f"{prefix}_anomaly_max_{w}",
        f"{prefix}_anomaly_mean_{w}",
        f"{prefix}_anomaly_expected_{w}",
        f"{prefix}_anomaly_max_all",
        f"{prefix}_anomaly_expected_all",
    )


def aggregate_descriptions(prefix: str) -> dict[str, tuple[str, str]]:
    mx, mean, exp, mx_all, exp_all = aggregate_names(prefix)
    return {
        mx: (
            f"经手合同最高异常概率(近{WINDOW_DAYS}天)",
            f"highest contract anomaly probability (last {WINDOW_DAYS} days)",
        ),
        mean: (
            f"经手合同平均异常概率(近{WINDOW_DAYS}天)",
            f"mean contract anomaly probability (last {WINDOW_DAYS} days)",
        ),
        exp: (
            f"预期异常合同数(近{WINDOW_DAYS}天)",
            f"expected number of irregular contracts (last {WINDOW_DAYS} days)",
        ),
        mx_all: (
            "经手合同最高异常概率(累计)",
            "highest contract anomaly probability (all history)",
        ),
        exp_all: ("预期异常合同数(累计)", "expected number of irregular contracts (all history)"),
    }


def aggregate_directions(prefix: str) -> dict[str, int]:
    """More, or more anomalous, contracts never lower an entity's risk."""
    mx, _, exp, mx_all, exp_all = aggregate_names(prefix)
    return {mx: 1, exp: 1, mx_all: 1, exp_all: 1}


def entity_anomaly(
    contracts: pd.DataFrame, entity_col: str, as_ofs: Sequence[pd.Timestamp], prefix: str
) -> pd.DataFrame:
    """Per (entity, as_of): anomaly scores of the contracts it handled, point in time.

    ``contracts`` has ``entity_col``, ``registered_date`` and ``p_anomaly``. Window figures
    count contracts registered in ``(as_of − 365 days, as_of]``, all-history figures every
    contract registered on or before as_of; each contract's score uses only what was known at
    its registration.
    """
    c = contracts.loc[contracts[entity_col].notna(), [entity_col, "registered_date", "p_anomaly"]]
    c = c.rename(columns={entity_col: "entity_id"}).sort_values("registered_date", kind="mergesort")
    c["registered_date"] = pd.to_datetime(c["registered_date"]).astype("datetime64[ns]")
    day = c["registered_date"].to_numpy(dtype="datetime64[D]")
    mx, mean, exp, mx_all, exp_all = aggregate_names(prefix)
    parts = []
    for as_of in as_ofs:
        hi = np.datetime64(pd.Timestamp(as_of).date(), "D")
        lo = hi - np.timedelta64(WINDOW_DAYS, "D")
        part = c.iloc[
            np.searchsorted(day, lo, side="right") : np.searchsorted(day, hi, side="right")
        ]
        g = part.groupby("entity_id", sort=False)["p_anomaly"].agg(["max", "mean", "sum"])
        g.columns = [mx, mean, exp]
        g = g.reset_index()
        g.insert(1, "as_of", pd.Timestamp(as_of))
        parts.append(g)
    window = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["entity_id", "as_of", mx, mean, exp])
    )
    # all history: running max and sum per entity, read at each as-of date
    g = c.groupby("entity_id", sort=False)["p_anomaly"]
    c[mx_all], c[exp_all] = g.cummax(), g.cumsum()
    grid = pd.MultiIndex.from_product(
        [c["entity_id"].unique(), pd.to_datetime(list(as_ofs))], names=["entity_id", "as_of"]
    ).to_frame(index=False)
    grid["as_of"] = grid["as_of"].astype("datetime64[ns]")
    history = pd.merge_asof(
        grid.sort_values("as_of"),
        c[["entity_id", "registered_date", mx_all, exp_all]],
        left_on="as_of",
        right_on="registered_date",
        by="entity_id",
        direction="backward",
    ).drop(columns="registered_date")
    history = history.dropna(subset=[exp_all])
    window["as_of"] = window["as_of"].astype("datetime64[ns]")
    out = history.merge(window, on=["entity_id", "as_of"], how="left")
    out[exp] = out[exp].fillna(0.0)
    return out[["entity_id", "as_of", mx, mean, exp, mx_all, exp_all]]
