"""The shape of the data standard: codes, enums, columns, rules and tables, and how a
declared table becomes a typed frame or an Arrow schema.

Kept apart from the declarations (:mod:`features.standard.enums`,
:mod:`features.standard.tables`) so that the vocabulary reads on one screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pyarrow as pa

DType = Literal["str", "int", "float", "date", "bool"]


@dataclass(frozen=True)
class Code:
    """One enum member: the stable English code stored in data and its Chinese label."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Enum:
    name: str
    members: tuple[Code, ...]

    @property
    def codes(self) -> list[str]:
        return [m.code for m in self.members]

    def label(self, code: str, lang: str = "zh") -> str:
        for m in self.members:
            if m.code == code:
                return m.zh if lang == "zh" else m.en
        raise KeyError(f"{code!r} is not a member of enum {self.name}")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: DType
    zh: str
    en: str
    nullable: bool = False
    enum: Enum | None = None
    min: float | None = None
    max: float | None = None
    unique: bool = False
    references: str | None = None  # "table.column" foreign key
    pattern: str | None = None  # regular expression a text value must match
    not_in_future: bool = False  # dates only: never after the load date
    not_before: str | None = None  # dates only: the earliest valid date, ISO (YYYY-MM-DD)


@dataclass(frozen=True)
class Rule:
    """A cross-field rule ``left <op> right`` that a valid row obeys (nulls pass)."""

    name: str
    left: str
    op: Literal["<=", "<", ">=", ">"]
    right: str
    zh: str
    en: str


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    en: str
    key: str
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()
    partition_date: str | None = None  # date column whose year partitions the curated store
    event_date: str | None = None  # the date a record becomes known (point-in-time filter)
    # Ordering of a record's versions (features.ingest.ordering): the record's own date that
    # says which version is newer (falling back to event_date), and the statuses that a later
    # version may leave only by naming the decision in the status-basis column.
    version_date: str | None = None
    final_statuses: tuple[str, ...] = ()
    status_basis: str | None = None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def enum_of(name: str, *members: tuple[str, str, str]) -> Enum:
    return Enum(name, tuple(Code(*m) for m in members))


_ARROW = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
}



def arrow_schema(t: Table) -> pa.Schema:
    """The Parquet schema of a table: one declaration, one physical layout everywhere."""
    return pa.schema([pa.field(c.name, _ARROW[c.dtype], nullable=c.nullable) for c in t.columns])


def conform(t: Table, df: pd.DataFrame) -> pd.DataFrame:
    """Cast an already-valid frame to the standard's dtypes and column order.

    Dates are ``datetime64[s]`` (day precision is enforced by validation), ints are nullable
    ``Int64`` only where the column is nullable, so that pandas never silently turns ints
    into floats.
    """
    out = {}
    for c in t.columns:
        s = df[c.name]
        if c.dtype == "str":
            s = s.astype("str")
        elif c.dtype == "int":
            s = s.astype("Int64" if c.nullable else "int64")
        elif c.dtype == "float":
            s = s.astype("float64")
        elif c.dtype == "date":
            s = pd.to_datetime(s).astype("datetime64[s]")
        elif c.dtype == "bool":
            s = s.astype("boolean" if c.nullable else "bool")
        out[c.name] = s
    return pd.DataFrame(out, index=df.index)


def to_arrow(t: Table, df: pd.DataFrame) -> pa.Table:
    """Convert a conforming frame to Arrow with the standard's schema (dates as date32)."""
    return pa.Table.from_pandas(conform(t, df), schema=arrow_schema(t), preserve_index=False)
