"""Contract anomaly: office-capacity metrics, point-in-time aggregates, leakage-free scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.anomaly import aggregate_names, anomaly_metrics, entity_anomaly, scores_without_leakage
from models.fit import fit_risk_model


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


def test_entity_aggregates_use_only_the_365_days_up_to_as_of() -> None:
    contracts = pd.DataFrame(
        {
            "broker_id": ["B1", "B1", "B1", "B2", None],
            "registered_date": pd.to_datetime(
                ["2018-12-31", "2019-06-30", "2020-01-01", "2019-12-31", "2019-12-31"]
            ),
            "p_anomaly": [0.9, 0.2, 0.8, 0.4, 0.99],
        }
    )
    out = entity_anomaly(contracts, "broker_id", [pd.Timestamp("2019-12-31")], "brk")
    mx, mean, exp, mx_all, exp_all = aggregate_names("brk")
    b1 = out.set_index("entity_id").loc["B1"]
    # 2018-12-31 is exactly 365 days back: outside (as_of − 365, as_of]; 2020-01-01 is the future
    assert b1[mx] == pytest.approx(0.2) and b1[exp] == pytest.approx(0.2)
    assert b1[mx_all] == pytest.approx(0.9) and b1[exp_all] == pytest.approx(1.1)
    assert out.set_index("entity_id").loc["B2", mean] == pytest.approx(0.4)
    assert set(out["entity_id"]) == {"B1", "B2"}


def test_training_rows_are_scored_out_of_fold() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    df = pd.DataFrame(
        {"z": rng.normal(size=n), "noise": rng.normal(size=n), "t": np.repeat(np.arange(8), n // 8)}
    )
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(2 * df["z"] - 3)))).astype(int)
    fit = fit_risk_model(df, "y", "t", kind="anomaly", baseline=False)
    x = fit.model.encoder.matrix(df)
    train = (df["t"] <= 5).to_numpy()
    p = scores_without_leakage(
        fit.model, x, df["y"].to_numpy(), train, fit.best_iteration, fit.params, None
    )
    in_sample = fit.model.predict_matrix(x)
    np.testing.assert_array_equal(p[~train], in_sample[~train])
    assert not np.allclose(p[train], in_sample[train])
    assert np.corrcoef(p[train], in_sample[train])[0, 1] > 0.9
