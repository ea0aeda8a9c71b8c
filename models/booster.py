"""LightGBM training with the regularisation small credit tables need.

Credit data are small and imbalanced: a few hundred bads decide how complex a tree may be.
Tree size, leaf size and L2 penalty therefore follow the number of bads, the learning rate
is low and early stopping on a later (validation) period picks the number of trees, so the
untuned defaults do not lose to logistic regression on small tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightgbm as lgb
import numpy as np

TRAIN_THREADS = 2
SERVE_THREADS = 1
MAX_ROUNDS = 3000


def default_params(n_rows: int, n_bads: int, seed: int = 0) -> dict:
    """Parameters scaled to the data: shallower trees and stronger shrinkage for few bads.

    Under 500 bads the trees are depth-2 extremely randomised trees (close to an additive
    model, which is what logistic regression is good at); under 2,000 they grow with the
    square root of the bads; above that LightGBM's usual 31 leaves with a faster learning rate
    (large panels must train in minutes on two cores).
    """
    tiny, small = n_bads < 500, n_bads < 2000
    leaves = 3 if tiny else int(np.clip(np.sqrt(max(n_bads, 1)) / 2, 4, 31))
    return {
        "objective": "binary",
        "learning_rate": 0.03 if tiny else 0.02 if small else 0.08,
        "num_leaves": leaves,
        "max_depth": 2 if tiny else 4 if small else -1,
        "extra_trees": small,
        "min_data_in_leaf": int(np.clip(n_rows // 100, 20, 400)),
        "min_sum_hessian_in_leaf": 1.0 if small else 1e-3,
        "lambda_l2": 10.0 if small else 1.0,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "max_bin": 63 if small else 127,
        "cat_smooth": 20.0,
        "cat_l2": 10.0,
        "min_data_per_group": 50,
        "monotone_constraints_method": "intermediate",
        "num_threads": TRAIN_THREADS,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
    }


def monotone_vector(
    features: Sequence[str], directions: Mapping[str, int], categorical: Sequence[str] = ()
) -> list[int]:
    """LightGBM's constraint per feature: +1 (never lowers risk), −1, or 0; never on categories."""
    bad = {k: v for k, v in directions.items() if v not in (-1, 0, 1)}
    if bad:
        raise ValueError(f"monotone directions must be -1, 0 or +1: {bad}")
    cats = set(categorical)
    return [0 if f in cats else int(directions.get(f, 0)) for f in features]


def fit_booster(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray | None,
    y_valid: np.ndarray | None,
    features: Sequence[str],
    categorical_index: Sequence[int],
    monotone: Sequence[int],
    params: Mapping | None = None,
    rounds: int | None = None,
    seed: int = 0,
) -> lgb.Booster:
    """Train with early stopping on the validation part, or a fixed number of ``rounds``."""
    p = {**default_params(len(y_train), int(np.sum(y_train)), seed), **(params or {})}
    p["monotone_constraints"] = list(monotone)
    small = int(np.sum(y_train)) < 2000
    train = lgb.Dataset(
        x_train,
        y_train,
        feature_name=list(features),
        categorical_feature=list(categorical_index),
        free_raw_data=False,
    )
    if rounds is not None:
        return lgb.train(p, train, num_boost_round=max(int(rounds), 1))
    if x_valid is None or y_valid is None:
        raise ValueError("early stopping needs a validation set, or pass rounds")
    valid = lgb.Dataset(x_valid, y_valid, reference=train)
    return lgb.train(
        p,
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(200 if small else 50, first_metric_only=True, verbose=False)],
        feval=None,
    )
