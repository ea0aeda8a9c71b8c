"""The credit training path on a table with a known answer: split, constraints, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.fit import FitResult, Policy, Roles, Selection, downsample_goods, fit_risk_model
from models.risk_model import load_risk_model
from models.split import time_split
from models.table import coerce_target, fit_encoder, infer_columns
from tests.known_signal import credit_table

MONOTONE = {"past_conduct_records": 1, "complaints": 1, "trained_share": -1}
DESCRIPTIONS = {
    "past_conduct_records": ("既往失信记录数", "past dishonesty records"),
    "complaints": ("投诉数", "complaints"),
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return credit_table(6000, seed=11)


@pytest.fixture(scope="module")
def fit(table: pd.DataFrame) -> FitResult:
    return fit_risk_model(
        table,
        Roles.of_table(table.columns, "y", "as_of", segments=["region", "entity_kind"],
                       exclude=["entity_id"]),
        Policy(monotone=MONOTONE, descriptions=DESCRIPTIONS),
    )


def test_time_split_trains_on_earlier_years_and_tests_on_the_last() -> None:
    t = pd.Series(
        pd.to_datetime(
            ["2016-03-01", "2017-05-01", "2018-01-31", "2019-12-31", "2020-06-30", "2020-01-31"]
        )
    )
    s = time_split(t)
    assert list(s.train) == [True, True, True, False, False, False]
    assert list(s.valid) == [False, False, False, True, False, False]
    assert list(s.test) == [False, False, False, False, True, True]
    assert s.windows["test"] == ("2020-01-31", "2020-06-30")


def test_time_split_on_numeric_periods_never_cuts_a_period() -> None:
    t = pd.Series(np.repeat(np.arange(10), 100))
    s = time_split(t)
    assert (s.train | s.valid | s.test).all()
    assert t[s.train].max() < t[s.valid].min() <= t[s.valid].max() < t[s.test].min()


def test_fit_is_out_of_time_and_beats_the_scorecard(fit: FitResult) -> None:
    assert fit.method == "out-of-time"
    assert fit.windows["train"][1] < fit.windows["valid"][0] < fit.windows["test"][0]
    lgbm, base = fit.metrics["lightgbm"], fit.metrics["baseline"]
    assert lgbm.auc > 0.70
    assert lgbm.auc > base.auc and lgbm.ks > base.ks
    assert 0.7 < lgbm.calibration_ratio < 1.4
    assert set(fit.held_out["region"]) and "p_baseline" in fit.held_out


def test_raising_a_constrained_feature_never_improves_the_score(
    fit: FitResult, table: pd.DataFrame
) -> None:
    model = fit.model
    rows = table.sample(500, random_state=0).reset_index(drop=True)
    base = model.score(rows).points
    for feature, direction in MONOTONE.items():
        bumped = rows.copy()
        step = 1.0 if feature != "trained_share" else 0.1
        bumped[feature] = bumped[feature] + direction * step
        pts = model.score(bumped).points
        assert np.all(pts <= base + 1e-9), feature  # more risk signal → never more points
    assert model.monotone == MONOTONE


def test_reasons_sum_with_the_base_value_to_the_calibrated_score(
    fit: FitResult, table: pd.DataFrame
) -> None:
    model = fit.model
    x = model.encoder.matrix(table.head(300))
    contrib = model.contributions(x)
    np.testing.assert_allclose(contrib.sum(axis=1), model.logit(x), rtol=1e-9, atol=1e-9)
    scores = model.score_matrix(x, top=len(model.features))
    base_points = model.scale.points_from_logit(contrib[:, -1])
    for i in range(20):
        # points = base value's points − points of every factor (raising and lowering risk)
        all_phi = contrib[i, :-1] * model.scale.factor
        assert scores.points[i] == pytest.approx(base_points[i] - all_phi.sum())
        reasons = scores.reasons[i]
        assert all(r.points > 0 for r in reasons)
        assert [r.points for r in reasons] == sorted((r.points for r in reasons), reverse=True)
        assert sum(r.points for r in reasons) == pytest.approx(all_phi[all_phi > 0].sum())


def test_reasons_are_worded_from_descriptions_with_name_fallback(
    fit: FitResult, table: pd.DataFrame
) -> None:
    risky = table[table["past_conduct_records"] >= 3].head(5)
    scores = fit.model.score(risky, top=3)
    first = scores.reasons[0][0]
    assert first.feature == "past_conduct_records"
    assert first.zh == "既往失信记录数" and first.text_en.startswith("past dishonesty records (")
    others = [r for rs in scores.reasons for r in rs if r.feature not in DESCRIPTIONS]
    assert all(r.zh == r.feature == r.en for r in others)
    assert "；" in scores.frame()["reasons_zh"].iloc[0]


def test_single_record_scoring_matches_the_batch(fit: FitResult, table: pd.DataFrame) -> None:
    row = table.iloc[[7]]
    record = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    record["region"] = "999999"  # unseen level → treated as missing, not an error
    one = fit.model.score_matrix(fit.model.encoder.row(record))  # the real-time path
    batch = fit.model.score(row.assign(region=None))
    assert one.pd[0] == pytest.approx(batch.pd[0])
    assert one.grade[0] == batch.grade[0]


def test_saved_model_reloads_to_identical_scores(
    fit: FitResult, table: pd.DataFrame, tmp_path
) -> None:
    fit.model.save(tmp_path / "m")
    again = load_risk_model(tmp_path / "m")
    np.testing.assert_array_equal(
        again.predict(table.head(200)), fit.model.predict(table.head(200))
    )
    assert again.descriptions["complaints"] == ("投诉数", "complaints")


def test_kfold_without_time_column_gives_out_of_fold_predictions() -> None:
    df = credit_table(2500, seed=5).drop(columns=["as_of"])
    r = fit_risk_model(df, Roles.of_table(df.columns, "y", exclude=["entity_id"]),
                       Policy(baseline=True, folds=3))
    assert r.method == "k-fold" and r.reference is None
    assert len(r.held_out) == len(df)
    assert r.metrics["lightgbm"].auc > 0.68
    assert r.metrics["lightgbm"].auc > r.metrics["baseline"].auc - 0.02


def test_columns_inferred_and_identifiers_dropped(table: pd.DataFrame) -> None:
    cols = infer_columns(table.assign(const=1), "y", exclude=["as_of"])
    assert "region" in cols.categorical and "complaints" in cols.numeric
    assert (
        cols.dropped["entity_id"].startswith("identifier") and cols.dropped["const"] == "constant"
    )
    enc = fit_encoder(table, cols)
    m = enc.matrix(table.head(3).assign(region=["110000", None, "nowhere"]))
    j = enc.features.index("region")
    assert m[0, j] == enc.levels["region"].index("110000") and np.isnan(m[1:, j]).all()


def test_bad_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="binary"):
        coerce_target(pd.Series([0, 1, 2], name="y"))
    with pytest.raises(ValueError, match="missing"):
        coerce_target(pd.Series([0, None, 1], name="y"))
    with pytest.raises(KeyError, match="target"):
        fit_risk_model(pd.DataFrame({"a": [1, 2]}), Roles.of_table(["a"], "y"))


def test_downsampling_keeps_every_bad() -> None:
    y = np.r_[np.ones(10), np.zeros(990)].astype(int)
    keep = downsample_goods(y, 110, 0)
    assert keep.sum() == 110 and keep[:10].all()


def test_training_sample_keeps_every_bad_and_never_touches_later_periods(table) -> None:
    r = fit_risk_model(
        table, Roles.of_table(table.columns, "y", "as_of", exclude=["entity_id"]),
        Policy(baseline=False, max_train_rows=1500),
    )
    n_train = int((table["as_of"].dt.year <= 2018).sum())
    assert r.sampling == f"all bads, 1,500 of {n_train:,} training rows"
    assert len(r.held_out) == int((table["as_of"].dt.year == 2020).sum())
    # the PSI reference is the training period as it was, not the bad-enriched sample
    assert len(r.reference) == n_train
    assert r.reference["y"].mean() == pytest.approx(
        table.loc[table["as_of"].dt.year <= 2018, "y"].mean()
    )


def test_feature_selection_drops_pure_noise_and_records_why(table: pd.DataFrame) -> None:
    rng = np.random.default_rng(5)
    noisy = table.assign(**{f"noise_{i}": rng.normal(size=len(table)) for i in range(4)})
    fit = fit_risk_model(noisy, Roles.of_table(noisy.columns, "y", "as_of", exclude=["entity_id"]),
                         Policy(baseline=False), Selection())
    dropped = {k for k, v in fit.columns.dropped.items() if "null importance" in v}
    assert {f"noise_{i}" for i in range(4)} <= dropped
    assert "past_conduct_records" in fit.model.features  # the real driver stays
    assert not dropped & set(fit.model.features)


def test_a_feature_that_matters_for_one_group_only_is_kept() -> None:
    """Selection judges each entity kind too: a minority's driver is not noise."""
    from models.fit import noise_of
    from models.importance import NullImportance

    names = ("a_driver", "b_driver", "unused")
    null = np.ones((5, 3))
    pooled = NullImportance(names, np.array([9.0, 0.5, 0.5]), null)
    group_b = NullImportance(names, np.array([0.5, 9.0, 0.5]), null)
    assert noise_of([pooled]) == ["b_driver", "unused"]
    assert noise_of([pooled, group_b]) == ["unused"]
    assert noise_of([]) == []


def test_a_scorecard_that_does_not_rank_the_validation_year_keeps_its_own_calibration() -> None:
    from models.fit import _calibrate_card
    from models.platt import Platt

    y = np.r_[np.ones(20), np.zeros(200)].astype(int)
    assert _calibrate_card(np.r_[np.full(20, -3.0), np.full(200, 3.0)], y) == Platt()
    assert _calibrate_card(np.r_[np.full(20, 3.0), np.full(200, -3.0)], y).slope > 0
