"""Out-of-time and k-fold splits.

Credit models are judged on the future, so with a time column the split is always by
time (train on earlier periods, validate on the next, test on the latest), never random.
K-fold is only the fallback for tables without any time column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold


@dataclass(frozen=True)
class TimeSplit:
    """Boolean row masks and the periods (as text) each part covers."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    windows: dict[str, tuple[str, str]]


def _period_labels(t: pd.Series) -> pd.Series:
    """Calendar years for dates when there are at least three of them, else the raw values."""
    if pd.api.types.is_datetime64_any_dtype(t) and t.dt.year.nunique() >= 3:
        return t.dt.year
    return t


def time_split(t: pd.Series, test_share: float = 0.2, valid_share: float = 0.2) -> TimeSplit:
    """Latest period(s) test, the ones before valid, the rest train.

    Dates spanning three or more years split by whole years: test = the last year,
    valid = the year before, train = all earlier years. Other time columns split on their
    sorted distinct values so that about ``test_share`` and ``valid_share`` of the rows land
    in test and valid; a period is never cut in two.
    """
    if t.isna().any():
        raise ValueError(f"time column {t.name!r} has {int(t.isna().sum())} missing values")
    period = _period_labels(t)
    values = np.sort(period.unique())
    if len(values) < 3:
        raise ValueError(
            f"time column {t.name!r} needs at least 3 distinct periods, has {len(values)}"
        )
    if pd.api.types.is_datetime64_any_dtype(t) and period is not t:
        test_from, valid_from = values[-1], values[-2]
    else:
        share = period.value_counts(normalize=True).reindex(values).cumsum().to_numpy()
        test_i = int(
            np.clip(np.searchsorted(share, 1 - test_share, side="left") + 1, 2, len(values) - 1)
        )
        valid_i = int(
            np.clip(
                np.searchsorted(share, 1 - test_share - valid_share, side="left") + 1, 1, test_i - 1
            )
        )
        test_from, valid_from = values[test_i], values[valid_i]
    p = period.to_numpy()
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
    )


def kfold(y: np.ndarray, folds: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds: every fold keeps the (often rare) bad rate of the whole table."""
    n_pos = int(np.sum(y))
    folds = max(2, min(folds, n_pos, len(y) - n_pos))
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
