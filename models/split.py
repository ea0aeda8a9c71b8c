"""Out-of-time, gapped and grouped splits.

Credit models are judged on the future, so with a time column the split is always by time
(train on earlier periods, validate on a later one, test on the latest), never random. When
each row's label looks ``gap_months`` ahead of its as-of date, rows closer than that to the
next part would share outcomes with it (one conduct record confirmed in 2019 is the label of
a 2018-12-31 validation row *and* a 2019-01-31 test row), so whole periods are left out
between the parts until the label windows no longer overlap. K-fold is only the fallback for
tables without any time column; out-of-fold scores that feed other models are grouped so that
one fraud scheme never sits on both sides of a fold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold


@dataclass(frozen=True)
class TimeSplit:
    """Boolean row masks and the periods (as text) each part covers.

    Rows in none of the three masks fall in a gap: their labels overlap the next part's.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    windows: dict[str, tuple[str, str]]
    gap_months: int = 0

    @property
    def gap(self) -> np.ndarray:
        return ~(self.train | self.valid | self.test)


def _period_labels(t: pd.Series) -> pd.Series:
    """Calendar years for dates when there are at least three of them, else the raw values."""
    if pd.api.types.is_datetime64_any_dtype(t) and t.dt.year.nunique() >= 3:
        return t.dt.year
    return t


def _by_share(period: pd.Series, values: np.ndarray, test_share: float, valid_share: float
              ) -> tuple[object, object]:
    """First test and first valid period so that about the given shares of rows land there.

    Counted in whole rows (integers), so ten equal periods give exactly 60/20/20.
    """
    counts = period.value_counts().reindex(values).to_numpy()
    after = np.cumsum(counts[::-1])[::-1]  # rows from each period to the end
    n = int(counts.sum())
    test_i = int(np.clip(np.flatnonzero(after * 1.0 >= test_share * n - 1e-9)[-1], 2,
                         len(values) - 1))
    want_valid = (test_share + valid_share) * n - 1e-9
    valid_i = int(np.clip(np.flatnonzero(after * 1.0 >= want_valid)[-1], 1, test_i - 1))
    return values[test_i], values[valid_i]


def _gapped(t: pd.Series, period: pd.Series, values: np.ndarray, gap: pd.DateOffset
            ) -> tuple[object, object, object]:
    """Test = the last period; valid = the latest period whose last date plus the gap does not
    reach the first test date; train = the periods likewise clear of valid.
    """
    first = t.groupby(period).min().reindex(values)
    last = t.groupby(period).max().reindex(values)

    def clear_of(start: pd.Timestamp, before: int) -> int | None:
        ok = [i for i in range(before) if last.iloc[i] + gap <= start]
        return ok[-1] if ok else None

    test_i = len(values) - 1
    valid_i = clear_of(first.iloc[test_i], test_i)
    train_last = None if valid_i is None else clear_of(first.iloc[valid_i], valid_i)
    if valid_i is None or train_last is None:
        raise ValueError(
            f"time column {t.name!r}: {len(values)} periods cannot hold train, valid and test "
            f"with a {gap.months}-month gap between them (labels would overlap)"
        )
    return values[test_i], values[valid_i], values[train_last]


def time_split(t: pd.Series, test_share: float = 0.2, valid_share: float = 0.2,
               gap_months: int = 0) -> TimeSplit:
    """Latest period(s) test, an earlier one valid, the rest train; gaps between when asked.

    Dates spanning three or more years split by whole years: test = the last year, valid =
    the year before, train = all earlier years. Other time columns split on their sorted
    distinct values so that about ``test_share`` and ``valid_share`` of the rows land in test
    and valid; a period is never cut in two. With ``gap_months`` (dates only), valid is the
    latest period ending at least that long before test starts, and train the periods ending
    that long before valid starts.
    """
    if t.isna().any():
        raise ValueError(f"time column {t.name!r} has {int(t.isna().sum())} missing values")
    is_date = pd.api.types.is_datetime64_any_dtype(t)
    if gap_months and not is_date:
        raise ValueError(f"time column {t.name!r}: a gap in months needs dates")
    period = _period_labels(t)
    values = np.sort(period.unique())
    if len(values) < 3:
        raise ValueError(
            f"time column {t.name!r} needs at least 3 distinct periods, has {len(values)}"
        )
    p = period.to_numpy()
    if gap_months:
        test_from, valid_at, train_to = _gapped(t, period, values,
                                                pd.DateOffset(months=gap_months))
        test = p >= test_from
        valid = p == valid_at
        train = p <= train_to
    else:
        if is_date and period is not t:
            test_from, valid_from = values[-1], values[-2]
        else:
            test_from, valid_from = _by_share(period, values, test_share, valid_share)
        test = p >= test_from
        valid = (p >= valid_from) & ~test
        train = ~(test | valid)

    def window(mask: np.ndarray) -> tuple[str, str]:
        part = t[mask]
        return str(part.min())[:10], str(part.max())[:10]

    return TimeSplit(
        train,
        valid,
        test,
        {k: window(m) for k, m in (("train", train), ("valid", valid), ("test", test))},
        gap_months,
    )


def kfold(y: np.ndarray, folds: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds: every fold keeps the (often rare) bad rate of the whole table."""
    n_pos = int(np.sum(y))
    folds = max(2, min(folds, n_pos, len(y) - n_pos))
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def group_kfold(y: np.ndarray, groups: np.ndarray, folds: int = 2, seed: int = 0
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that keep every group (one institution's, broker's or seller's
    contracts) on one side, so a scheme's other contracts never vouch for it out of fold.
    """
    n_pos = int(np.sum(y))
    n_groups = len(pd.unique(groups))
    folds = max(2, min(folds, n_pos, len(y) - n_pos, n_groups))
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))
