"""Any feature table to a numeric matrix that LightGBM and the serving path share.

Text columns become integer codes over the levels seen in training (unseen or missing →
NaN, which LightGBM routes like a missing value), so a single row can be scored from a
NumPy array without building a DataFrame (DESIGN: 20 µs against 250 µs per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_LEVELS = 200  # text columns with more distinct values are identifiers, not categories
MIN_LEVEL_COUNT = 5  # rarer levels are pooled into missing: too few rows to learn from


@dataclass(frozen=True)
class Columns:
    """Which columns a model uses, and which were left out and why."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: Mapping[str, str] = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


def infer_columns(df: pd.DataFrame, target: str, exclude: Iterable[str] = ()) -> Columns:
    """Numeric and text columns usable as features; identifiers, dates and constants dropped."""
    skip = {target, *exclude}
    numeric, categorical, dropped = [], [], {}
    for name in df.columns:
        if name in skip:
            continue
        s = df[name]
        if pd.api.types.is_datetime64_any_dtype(s):
            dropped[name] = "date column"
        elif s.nunique(dropna=True) <= 1:
            dropped[name] = "constant"
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            numeric.append(name)
        elif s.nunique(dropna=True) > min(MAX_LEVELS, 0.5 * len(s)):
            dropped[name] = "identifier-like text (too many distinct values)"
        else:
            categorical.append(name)
    if not numeric and not categorical:
        raise ValueError(f"no usable feature columns besides the target {target!r}")
    return Columns(tuple(numeric), tuple(categorical), dropped)


@dataclass(frozen=True)
class Encoder:
    """The frozen mapping from a table's columns to model inputs."""

    numeric: tuple[str, ...]
    levels: Mapping[str, tuple[str, ...]]  # categorical column → levels in code order

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + tuple(self.levels)

    @property
    def categorical_index(self) -> list[int]:
        return list(range(len(self.numeric), len(self.features)))

    def matrix(self, df: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.features if c not in df.columns]
        if missing:
            raise KeyError(f"feature columns missing from the table: {missing}")
        out = np.empty((len(df), len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            out[:, j] = (
                pd.to_numeric(df[name], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
            )
        for j, (name, levels) in enumerate(self.levels.items(), start=len(self.numeric)):
            text = df[name].astype("str").where(df[name].notna())
            codes = pd.Index(levels, dtype="str").get_indexer(text)  # -1: missing or unseen
            out[:, j] = np.where(codes < 0, np.nan, codes)
        return out

    def row(self, record: Mapping[str, object]) -> np.ndarray:
        """One record (a dict from the service) to a 1×n matrix, without pandas."""
        out = np.empty((1, len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            v = record.get(name)
            out[0, j] = np.nan if v is None else float(v)
        for j, (name, levels) in enumerate(self.levels.items(), start=len(self.numeric)):
            v = record.get(name)
            out[0, j] = levels.index(str(v)) if v is not None and str(v) in levels else np.nan
        return out

    def to_json(self) -> dict:
        return {
            "numeric": list(self.numeric),
            "levels": {k: list(v) for k, v in self.levels.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Encoder:
        return cls(tuple(data["numeric"]), {k: tuple(v) for k, v in data["levels"].items()})


def fit_encoder(df: pd.DataFrame, columns: Columns) -> Encoder:
    levels = {}
    for name in columns.categorical:
        counts = df[name].dropna().astype("str").value_counts()
        levels[name] = tuple(sorted(counts[counts >= MIN_LEVEL_COUNT].index))
    return Encoder(columns.numeric, levels)


def coerce_target(s: pd.Series, bad: str | None = None) -> np.ndarray:
    """A binary target as 0/1; anything else is a clear error, not a silent guess.

    ``bad`` names the value that means bad in a text target ("bad", "yes", "违约"): which
    of two labels is the bad one cannot be guessed safely.
    """
    if s.isna().any():
        raise ValueError(f"target {s.name!r} has {int(s.isna().sum())} missing values")
    if bad is not None:
        text = s.astype("str")
        values = sorted(pd.unique(text))
        if bad not in values or len(values) != 2:
            raise ValueError(
                f"target {s.name!r}: the bad value {bad!r} must be one of exactly two values, "
                f"found {values[:5]}"
            )
        return (text == bad).astype(int).to_numpy()
    if pd.api.types.is_bool_dtype(s):
        return s.astype(int).to_numpy()
    values = set(pd.unique(s))
    if values <= {0, 1}:
        return s.astype(int).to_numpy()
    raise ValueError(
        f"target {s.name!r} must be binary 0/1, found values {sorted(map(str, values))[:5]}; "
        "for a text target name the value that means bad (techcredit train --bad VALUE)"
    )
