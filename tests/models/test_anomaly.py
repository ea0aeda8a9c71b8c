"""Contract anomaly: office-capacity metrics and leakage-free scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.anomaly import anomaly_metrics, scores_without_leakage
from models.fit import Policy, Roles, fit_risk_model
from models.metrics import auc
from models.specs import ANOMALY


def test_metrics_speak_of_what_offices_can_review() -> None:
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.1, 0.0, 0.2, 0.7, 0.6, 0.5])
    office = np.array(["A"] * 4 + ["B"] * 4)
    m = anomaly_metrics(y, p, office, per_office_k=1)
    assert m["anomaly_base_rate"] == pytest.approx(0.25)
    assert m["anomaly_precision_at_k_per_office"] == pytest.approx(0.5)  # A finds one, B none
    assert m["anomaly_k"] == 2 and m["anomaly_precision_at_k"] == pytest.approx(0.5)
    assert m["anomaly_recall_at_k"] == pytest.approx(0.5)
    assert m["anomaly_ap_lift"] == pytest.approx(m["anomaly_ap"] / 0.25)


def test_training_rows_are_scored_out_of_fold() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    df = pd.DataFrame(
        {"z": rng.normal(size=n), "noise": rng.normal(size=n), "t": np.repeat(np.arange(8), n // 8)}
    )
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(2 * df["z"] - 3)))).astype(int)
    fit = fit_risk_model(df, Roles.of_table(df.columns, "y", "t"),
                         Policy(kind="anomaly", baseline=False))
    x = fit.model.encoder.matrix(df)
    train = (df["t"] <= 5).to_numpy()
    p = scores_without_leakage(
        fit.model, x, df["y"].to_numpy(), train, fit.best_iteration, fit.params, None,
        np.arange(n),
    )
    in_sample = fit.model.predict_matrix(x)
    np.testing.assert_array_equal(p[~train], in_sample[~train])
    assert not np.allclose(p[train], in_sample[train])
    assert np.corrcoef(p[train], in_sample[train])[0, 1] > 0.9


def test_a_scheme_is_scored_by_a_booster_that_never_saw_its_other_contracts() -> None:
    """Rows of one group share a code and an outcome: random folds would memorise the code."""
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(300), 30)
    bad = rng.random(300) < 0.3
    df = pd.DataFrame({"code": groups * 1.0 + rng.random(len(groups)) * 0.1,
                       "t": np.tile(np.arange(6), len(groups) // 6)})
    df["y"] = bad[groups].astype(int)
    params = {"min_data_in_leaf": 5, "num_leaves": 63, "max_depth": -1, "extra_trees": False,
              "learning_rate": 0.2, "max_bin": 1023, "feature_fraction": 1.0}
    fit = fit_risk_model(df, Roles.of_table(df.columns, "y", "t"),
                         Policy(kind="anomaly", baseline=False, params=params))
    x = fit.model.encoder.matrix(df)
    train = np.ones(len(df), dtype=bool)
    y = df["y"].to_numpy()
    grouped = scores_without_leakage(fit.model, x, y, train, 200, fit.params, None, groups)
    per_row = scores_without_leakage(fit.model, x, y, train, 200, fit.params, None,
                                     np.arange(len(df)))
    assert auc(y, per_row) > 0.9  # neighbours of the same scheme gave it away
    assert auc(y, grouped) < 0.65  # a code never seen in training tells nothing


def test_scheme_groups_take_the_institution_then_the_broker_then_the_seller() -> None:
    c = pd.DataFrame({"institution_id": ["I1", None, None], "broker_id": ["B1", "B2", None],
                      "seller_id": ["E1", "E2", "E3"]})
    assert ANOMALY.cluster is not None
    assert ANOMALY.cluster.groups(c).tolist() == ["I1", "B2", "E3"]


