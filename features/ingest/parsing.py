"""Typing raw export values by the standard's declarations, never crashing on a bad value.

Each column is converted to its declared type; a value that is present but cannot be read
("abc" as an amount, "2020-13-45" as a date) becomes null in the typed frame and is reported
in a per-column failure mask, so the row is quarantined with the value and the reason. Enum
columns also accept the Chinese label of a code (技术开发 → development).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.standard.schema import Column, Table, conform

TYPE_WORD = {"int": "an integer", "float": "a number", "date": "a date (YYYY-MM-DD)",
             "bool": "true/false", "str": "text"}
_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否"}


@dataclass
class Parsed:
    # the standard's columns, typed as features.standard.tables.conform types them
    frame: pd.DataFrame
    failures: dict[str, np.ndarray]  # column -> rows whose present value could not be read


def _present(s: pd.Series) -> np.ndarray:
    return s.notna().to_numpy()


def _text(s: pd.Series, strip: bool = True) -> pd.Series:
    """Values as text, nulls kept; empty strings count as null; stripped unless told not to."""
    if not pd.api.types.is_string_dtype(s) or s.dtype == object:
        s = s.astype("str").where(s.notna())
    if strip:
        s = s.str.strip()
    empty = (s == "").to_numpy(dtype=bool, na_value=False)
    return s.where(~empty) if empty.any() else s


def parse_str(c: Column, s: pd.Series, strip: bool = True) -> tuple[pd.Series, np.ndarray]:
    out = _text(s, strip)
    if c.enum is not None:
        labels = {m.zh: m.code for m in c.enum.members}
        is_label = out.isin(list(labels)).to_numpy()
        if is_label.any():
            out = out.where(~is_label, out.map(labels))
    if out.dtype != "str":
        out = out.astype("str").where(out.notna())
    return out, np.zeros(len(s), dtype=bool)


def parse_number(c: Column, s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype("float64")
        failed = np.zeros(len(s), dtype=bool)
    else:
        text = _text(s)
        digits = text.str.replace(",", "", regex=False)
        num = pd.to_numeric(digits, errors="coerce").astype("float64")
        failed = _present(text) & num.isna().to_numpy()
    if c.dtype == "int":
        values = num.to_numpy()
        fractional = np.isfinite(values) & (values != np.floor(values))
        huge = np.isfinite(values) & (np.abs(values) > 2**53)
        failed |= fractional | huge | np.isinf(values)
        num = num.where(~(fractional | huge | np.isinf(values)))
        return num.astype("Int64"), failed
    return num, failed


def parse_date(c: Column, s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return out.astype("datetime64[s]"), np.zeros(len(s), dtype=bool)
    text = _text(s)
    norm = text.str.replace("/", "-", regex=False).str.replace(".", "-", regex=False)
    out = pd.to_datetime(norm, format="%Y-%m-%d", errors="coerce")
    retry = (norm.notna() & out.isna()).to_numpy()
    if retry.any():
        # Excel-style exports write "2020-01-05 00:00:00": accept midnight, nothing else.
        again = pd.to_datetime(norm[retry], format="ISO8601", errors="coerce")
        again = again.where(again == again.dt.normalize())
        out = out.astype("datetime64[us]")
        out[retry] = again.astype("datetime64[us]")
    failed = _present(text) & out.isna().to_numpy()
    return out.astype("datetime64[s]"), failed


def parse_bool(c: Column, s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), np.zeros(len(s), dtype=bool)
    text = _text(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[text.isin(list(_TRUE)).to_numpy()] = True
    out[text.isin(list(_FALSE)).to_numpy()] = False
    return out, _present(text) & out.isna().to_numpy()


_PARSERS = {"str": parse_str, "int": parse_number, "float": parse_number, "date": parse_date,
            "bool": parse_bool}


def parse_frame(t: Table, raw: pd.DataFrame, strip: bool = True) -> Parsed:
    """Type every standard column of ``raw``; columns absent from the file become all-null.

    ``strip`` trims surrounding spaces of text values (CSV exports); typed Parquet text is
    taken as it is, so a padded id there fails its pattern check visibly.
    """
    cols: dict[str, pd.Series] = {}
    failures: dict[str, np.ndarray] = {}
    for c in t.columns:
        s = raw[c.name] if c.name in raw.columns else pd.Series([None] * len(raw), index=raw.index,
                                                                 dtype="str")
        try:
            typed, failed = (
                parse_str(c, s, strip) if c.dtype == "str" else _PARSERS[c.dtype](c, s)
            )
        except (TypeError, ValueError, OverflowError):
            # A column of unexpected physical type (e.g. Parquet lists): read it as text.
            typed, failed = _PARSERS[c.dtype](c, s.astype("str").where(s.notna()))
        cols[c.name] = typed
        if failed.any():
            failures[c.name] = failed
    return Parsed(pd.DataFrame(cols, index=raw.index), failures)


def standard_dtypes(t: Table) -> dict[str, object]:
    """The dtype :func:`features.standard.tables.conform` gives each column."""
    empty = pd.DataFrame({c.name: pd.Series([], dtype="float64" if c.dtype in ("int", "float")
                                            else "datetime64[s]" if c.dtype == "date" else "str")
                          for c in t.columns})
    return dict(conform(t, empty).dtypes)


def to_standard(t: Table, df: pd.DataFrame) -> pd.DataFrame:
    """``conform(t, df)`` that only casts the columns whose dtype differs.

    ``conform`` re-casts every column (about a second per million contracts); frames from
    :func:`parse_frame` and the store are already right except nullable-int columns.
    """
    want = standard_dtypes(t)
    out = df[t.column_names].copy(deep=False)
    for c in t.columns:
        s = out[c.name]
        if s.dtype == want[c.name]:
            continue
        if c.dtype == "date":
            s = pd.to_datetime(s)
        out[c.name] = s.astype(want[c.name])
    return out

