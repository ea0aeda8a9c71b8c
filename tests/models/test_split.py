"""Out-of-time splits (disjoint, ordered, whole periods) and stratified, seeded k-fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.split import TimeSplit, group_kfold, kfold, time_split


def _parts(s: TimeSplit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return s.train, s.valid, s.test


def _assert_partition_in_time(t: pd.Series, train: np.ndarray, valid: np.ndarray,
                              test: np.ndarray) -> None:
    total = train.astype(int) + valid.astype(int) + test.astype(int)
    assert (total == 1).all()  # every row in exactly one part
    assert t[train].max() < t[valid].min()
    assert t[valid].max() < t[test].min()


def test_equal_numeric_periods_split_sixty_twenty_twenty() -> None:
    t = pd.Series(np.repeat([1, 2, 3, 4, 5], 2), name="period")
    s = time_split(t)
    _assert_partition_in_time(t, *_parts(s))
    assert t[s.test].unique().tolist() == [5]
    assert t[s.valid].unique().tolist() == [4]
    assert s.windows == {"train": ("1", "3"), "valid": ("4", "4"), "test": ("5", "5")}


def test_a_dominant_period_is_never_cut() -> None:
    t = pd.Series([1] * 5 + [2] * 5 + [3] * 90, name="period")
    s = time_split(t)
    assert s.windows == {"train": ("1", "1"), "valid": ("2", "2"), "test": ("3", "3")}
    assert s.test.sum() == 90


def test_dates_over_three_years_split_by_whole_years() -> None:
    t = pd.Series(pd.to_datetime(["2020-05-01", "2016-05-01", "2018-12-31", "2020-01-01",
                                  "2017-01-01", "2019-02-01", "2019-12-31"]))
    s = time_split(t)
    _assert_partition_in_time(t, *_parts(s))
    assert s.test.tolist() == [True, False, False, True, False, False, False]
    assert s.valid.tolist() == [False, False, False, False, False, True, True]
    assert s.windows == {"train": ("2016-05-01", "2018-12-31"),
                         "valid": ("2019-02-01", "2019-12-31"),
                         "test": ("2020-01-01", "2020-05-01")}


def test_dates_within_fewer_years_split_on_distinct_dates() -> None:
    t = pd.Series(pd.to_datetime(["2020-01-31", "2020-02-29", "2020-03-31", "2020-03-31"]))
    s = time_split(t)
    assert (s.train.tolist(), s.valid.tolist(), s.test.tolist()) == (
        [True, False, False, False], [False, True, False, False], [False, False, True, True])


def test_too_few_periods_or_missing_times_are_errors_naming_the_column() -> None:
    with pytest.raises(ValueError, match="'month' needs at least 3 distinct periods, has 2"):
        time_split(pd.Series([1, 2, 1], name="month"))
    with pytest.raises(ValueError, match="'month' has 1 missing values"):
        time_split(pd.Series([1.0, 2.0, None, 3.0], name="month"))


def test_ten_equal_periods_put_a_fifth_of_rows_in_test() -> None:
    t = pd.Series(np.repeat(np.arange(10), 100))
    s = time_split(t, test_share=0.2, valid_share=0.2)
    assert (s.train.mean(), s.valid.mean(), s.test.mean()) == (0.6, 0.2, 0.2)


def test_kfold_is_stratified_and_covers_every_row_once() -> None:
    y = np.r_[np.ones(5, dtype=int), np.zeros(20, dtype=int)]
    folds = kfold(y, folds=5, seed=0)
    assert len(folds) == 5
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(25))
    for train, test in folds:
        assert len(test) == 5 and y[test].sum() == 1  # the 20 % bad rate in every fold
        assert set(train.tolist()).isdisjoint(test.tolist())
        assert len(train) + len(test) == 25


def test_kfold_is_deterministic_per_seed() -> None:
    y = np.r_[np.ones(6, dtype=int), np.zeros(30, dtype=int)]
    a, b, c = kfold(y, 3, seed=7), kfold(y, 3, seed=7), kfold(y, 3, seed=8)
    assert [te.tolist() for _, te in a] == [te.tolist() for _, te in b]
    assert [te.tolist() for _, te in a] != [te.tolist() for _, te in c]


def test_kfold_never_asks_for_more_folds_than_either_class_has() -> None:
    assert len(kfold(np.r_[np.ones(3, dtype=int), np.zeros(20, dtype=int)], folds=5)) == 3
    assert len(kfold(np.r_[np.ones(20, dtype=int), np.zeros(4, dtype=int)], folds=5)) == 4
    with pytest.warns(UserWarning, match="least populated class"):  # one bad cannot stratify
        assert len(kfold(np.r_[1, 0, 0, 0, 0, 0], folds=5)) == 2  # never fewer than two


def _month_ends(first: str, last: str) -> pd.Series:
    return pd.Series(pd.date_range(first, last, freq="ME"), name="as_of")


def test_a_label_horizon_gap_leaves_a_year_out_between_the_parts() -> None:
    t = _month_ends("2012-01", "2019-12-31")
    s = time_split(t, gap_months=12)
    assert s.windows == {"train": ("2012-01-31", "2015-12-31"),
                         "valid": ("2017-01-31", "2017-12-31"),
                         "test": ("2019-01-31", "2019-12-31")}
    assert t[s.gap].dt.year.unique().tolist() == [2016, 2018]
    # the 12-month label windows of two parts never overlap
    horizon = pd.DateOffset(months=12)
    assert t[s.train].max() + horizon <= t[s.valid].min()
    assert t[s.valid].max() + horizon <= t[s.test].min()


def test_without_a_gap_the_parts_touch() -> None:
    s = time_split(_month_ends("2012-01", "2019-12-31"))
    assert s.windows["valid"] == ("2018-01-31", "2018-12-31")
    assert not s.gap.any()


def test_too_short_a_history_for_the_gap_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot hold train, valid and test with a 12-month gap"):
        time_split(_month_ends("2016-01", "2019-12-31"), gap_months=12)
    with pytest.raises(ValueError, match="a gap in months needs dates"):
        time_split(pd.Series(np.arange(10), name="period"), gap_months=12)


def test_group_folds_keep_each_group_on_one_side_and_stay_stratified() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(200), 5)  # five contracts per seller
    y = np.repeat(rng.random(200) < 0.2, 5).astype(int)
    folds = group_kfold(y, groups, folds=2, seed=3)
    assert len(folds) == 2
    for train, test in folds:
        assert set(groups[train]).isdisjoint(groups[test])
        assert abs(y[test].mean() - y.mean()) < 0.05
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(1000))
