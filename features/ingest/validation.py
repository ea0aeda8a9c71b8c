"""Validation of typed frames against the standard: one check list, two engines.

:func:`checks` derives the table's checks from the declarations in
:mod:`features.standard.tables` (not-null, enum sets, ranges, regular expressions, uniqueness, dates
not in the future, foreign keys, cross-field rules). Each :class:`Check` can be run two ways:

* :meth:`Check.failures` — a vectorised numpy/pandas mask over all rows. It decides which rows
  are quarantined, because Great Expectations runs at about 50,000 rows a second on this
  machine and the ingest target is 200,000.
* :meth:`GXValidator.expectation` — the Great Expectations 1.x expectation for the same rule.
  The suite is run on a :class:`Sample` of the file (:func:`verification_sample`: every row a
  mask rejects, up to ``FULL_ROWS`` of them, plus a sample of the rows the masks accept; every
  row for files up to ``FULL_ROWS``), and the file is refused if the two engines disagree on any row
  (:class:`ValidationDisagreement`). So GX is the reference: the masks are an accelerated,
  verified implementation of its suite, and its results go in the report.

A :class:`Sample` is small and picklable, so the ingest runs GX in a process of its own
(:mod:`pipelines.ingest.gx_worker`). Great Expectations is imported only inside :class:`GXValidator`
(6-10 s here), once a run.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.ingest.membership import is_in
from features.standard.schema import Table
from features.standard.tables import TABLES

ROW = "_row"  # positional row id given to GX as the unexpected index column
FULL_ROWS = 50_000  # files up to this size are re-validated by GX row for row
SAMPLE_ROWS = 10_000  # accepted rows GX re-validates in a larger file


@dataclass(frozen=True)
class Check:
    """One rule of the standard on one column (or a pair of columns)."""

    kind: str  # the GX expectation type, e.g. expect_column_values_to_be_in_set
    column: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    label: str = ""  # short human name: "in set", "rule tech_within_amount", "foreign key"...

    @property
    def id(self) -> str:
        return f"{self.label}:{self.column}"

    def failures(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean mask of rows that break this rule (nulls pass every rule but not-null)."""
        p = self.params
        if self.kind == "expect_column_values_to_not_be_null":
            return df[self.column].isna().to_numpy()
        if self.kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = df[p["column_A"]], df[p["column_B"]]
            both = (a.notna() & b.notna()).to_numpy()
            ok = (a >= b) if p["or_equal"] else (a > b)
            return both & ~ok.fillna(False).to_numpy(dtype=bool)
        s = df[self.column]
        present = s.notna().to_numpy()
        if self.kind == "expect_column_values_to_be_in_set":
            if pd.api.types.is_string_dtype(s):
                return present & ~is_in(s, p["value_set"])
            return present & ~s.isin(p["value_set"]).to_numpy()
        if self.kind == "expect_column_values_to_be_between":
            bad = np.zeros(len(s), dtype=bool)
            lo, hi = p.get("min_value"), p.get("max_value")
            if pd.api.types.is_datetime64_any_dtype(s):
                lo = pd.Timestamp(lo) if lo is not None else None
                hi = pd.Timestamp(hi) if hi is not None else None
            values = s.astype("float64") if pd.api.types.is_integer_dtype(s) else s
            if lo is not None:
                bad |= (values < lo).fillna(False).to_numpy(dtype=bool)
            if hi is not None:
                bad |= (values > hi).fillna(False).to_numpy(dtype=bool)
            return present & bad
        if self.kind == "expect_column_values_to_match_regex":
            return present & ~s.str.match(p["regex"]).fillna(False).to_numpy(dtype=bool)
        if self.kind == "expect_column_values_to_be_unique":
            return present & duplicated(s)
        raise ValueError(f"no mask for expectation {self.kind}")

    def describe(self, df: pd.DataFrame, row: int) -> str:
        """The reason text for one failing row: which rule, which field, which value."""
        p = self.params
        if self.kind == "expect_column_pair_values_a_to_be_greater_than_b":
            rule = p["rule"]
            left, right = df[rule.left].iloc[row], df[rule.right].iloc[row]
            return (f"{self.id}: {rule.left} {_show(left)} must be {rule.op} {rule.right} "
                    f"{_show(right)} ({rule.zh})")
        value = _show(df[self.column].iloc[row])
        what = {
            "expect_column_values_to_not_be_null": "is missing",
            "expect_column_values_to_be_in_set": "is not an allowed code",
            "expect_column_values_to_match_regex": f"does not match {p.get('regex')}",
            "expect_column_values_to_be_unique": "is duplicated in the file",
        }.get(self.kind)
        if self.label == "foreign key":
            what = f"is not a known {p['references']}"
        elif self.label == "not in future":
            what = f"is after the load date {str(p['max_value'])[:10]}"
        elif self.kind == "expect_column_values_to_be_between":
            what = f"is outside [{p.get('min_value')}, {p.get('max_value')}]"
        return f"{self.id}: value {value} {what}"


def duplicated(s: pd.Series) -> np.ndarray:
    """Every row whose value occurs more than once; Arrow's hash-based distinct count first,
    because ids are nearly always unique and that is twice as fast as pandas' duplicated."""
    present = int(s.count())
    distinct = len(pc.unique(pa.array(s, from_pandas=True)))  # a null counts as one value
    if distinct - (present < len(s)) == present:
        return np.zeros(len(s), dtype=bool)
    return s.duplicated(keep=False).to_numpy() & s.notna().to_numpy()


def _show(v: object) -> str:
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return "<null>"
    return repr(v.item() if hasattr(v, "item") else v)


def checks(t: Table, today: date, known_keys: dict[str, pd.Index] | None = None) -> list[Check]:
    """Every check of a table, derived from the standard's declarations.

    ``known_keys`` maps "table.column" to the keys a foreign key may point at (curated store
    plus this run's good rows); a reference without an entry is not checked.
    """
    known_keys = known_keys or {}
    now = f"{today.isoformat()}T00:00:00"
    out: list[Check] = []
    for c in t.columns:
        if not c.nullable:
            out.append(Check("expect_column_values_to_not_be_null", c.name, {}, "not null"))
        if c.enum is not None:
            out.append(Check("expect_column_values_to_be_in_set", c.name,
                             {"value_set": c.enum.codes}, "in set"))
        if c.min is not None or c.max is not None:
            out.append(Check("expect_column_values_to_be_between", c.name,
                             {"min_value": c.min, "max_value": c.max}, "range"))
        if c.pattern is not None:
            out.append(Check("expect_column_values_to_match_regex", c.name,
                             {"regex": c.pattern}, "pattern"))
        if c.unique:
            out.append(Check("expect_column_values_to_be_unique", c.name, {}, "unique"))
        if c.not_in_future:
            out.append(Check("expect_column_values_to_be_between", c.name,
                             {"max_value": now}, "not in future"))
        if c.not_before is not None:
            out.append(Check("expect_column_values_to_be_between", c.name,
                             {"min_value": f"{c.not_before}T00:00:00"}, "not before"))
        if c.references is not None and c.references in known_keys:
            out.append(Check("expect_column_values_to_be_in_set", c.name,
                             {"value_set": known_keys[c.references], "references": c.references},
                             "foreign key"))
    for r in t.rules:
        a, b = (r.right, r.left) if r.op in ("<=", "<") else (r.left, r.right)
        out.append(Check("expect_column_pair_values_a_to_be_greater_than_b", r.left,
                         {"column_A": a, "column_B": b, "or_equal": r.op in ("<=", ">="),
                          "rule": r}, f"rule {r.name}"))
    return out


def referenced_tables(t: Table) -> list[str]:
    """Tables a table's foreign keys point at ("institutions", ...), in declaration order."""
    return [c.references.split(".")[0] for c in t.columns if c.references]


def key_columns(t: Table) -> list[str]:
    """Columns of ``t`` that other tables reference (its key, usually)."""
    cols = {
        c.references.split(".")[1]
        for other in TABLES.values() for c in other.columns
        if c.references and c.references.split(".")[0] == t.name
    }
    return sorted(cols)


def run_masks(df: pd.DataFrame, cks: list[Check], threads: int = 2,
              min_rows: int = 100_000) -> dict[str, np.ndarray]:
    """Every check's failure mask. The costly checks (patterns, uniqueness, sets) run in Arrow,
    which releases the GIL, so two threads take a third off a 3.6 million-row file; below
    ``min_rows`` starting them costs more than it saves."""
    if threads <= 1 or len(df) < min_rows:
        return {c.id: c.failures(df) for c in cks}
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="masks") as pool:
        return dict(zip([c.id for c in cks], pool.map(lambda c: c.failures(df), cks), strict=True))


@dataclass
class Sample:
    """The part of one file that Great Expectations re-validates, with the masks' verdicts.

    Everything here pickles cheaply (at most ``FULL_ROWS`` rejected rows, every copy of a
    duplicated id and ``SAMPLE_ROWS`` accepted rows), so the sample can cross to the process
    that runs GX; the file itself never does.
    """

    table: str
    frame: pd.DataFrame  # the verification rows; ROW holds each one's position in the file
    checks: list[Check]  # foreign-key value sets cut to the keys that occur in ``frame``
    masks: dict[str, np.ndarray]  # check id -> the masks' verdict on those rows
    unexpected_in_file: dict[str, int]  # check id -> rows of the whole file the mask rejects
    rows_in_file: int

    @property
    def rows(self) -> np.ndarray:
        return self.frame[ROW].to_numpy()


def verification_rows(masks: dict[str, np.ndarray], n: int, rng: np.random.Generator,
                      full_rows: int = FULL_ROWS, sample_rows: int = SAMPLE_ROWS,
                      keep_all: tuple[str, ...] = ()) -> np.ndarray:
    """Rows GX re-validates: all of them for small files, else every rejected row plus a sample
    of the accepted ones.

    When more than ``full_rows`` rows are rejected (a contracts file loaded before its
    institutions, say), GX gets a sample of ``full_rows`` of them: all of them would cost a
    minute a million rows and as much memory as the file. The rows rejected by the checks in
    ``keep_all`` are always kept: a duplicated id must reach GX with all its copies, or GX
    would call it unique.
    """
    if n <= full_rows:
        return np.arange(n)
    bad = np.zeros(n, dtype=bool)
    for m in masks.values():
        bad |= m
    kept = np.zeros(n, dtype=bool)
    for cid in keep_all:
        kept |= masks[cid]
    rejected, good = np.flatnonzero(bad & ~kept), np.flatnonzero(~bad)
    if len(rejected) > full_rows:
        rejected = rng.choice(rejected, size=full_rows, replace=False)
    sample = rng.choice(good, size=min(sample_rows, len(good)), replace=False)
    return np.sort(np.concatenate([np.flatnonzero(kept), rejected, sample]))


def verification_sample(t: Table, df: pd.DataFrame, cks: list[Check], masks: dict[str, np.ndarray],
                        rng: np.random.Generator, full_rows: int = FULL_ROWS,
                        sample_rows: int = SAMPLE_ROWS) -> Sample:
    """The :class:`Sample` of one typed file that GX must agree on before it is loaded."""
    unique = tuple(c.id for c in cks if c.kind == "expect_column_values_to_be_unique")
    rows = verification_rows(masks, len(df), rng, full_rows, sample_rows, keep_all=unique)
    sub = df.iloc[rows].reset_index(drop=True)
    sub[ROW] = rows
    return Sample(t.name, sub, [_cut_value_set(c, sub) for c in cks],
                  {c.id: masks[c.id][rows] for c in cks},
                  {c.id: int(masks[c.id].sum()) for c in cks}, len(df))


def _cut_value_set(c: Check, sub: pd.DataFrame) -> Check:
    """A foreign key's check with its value set cut to the known keys that occur in ``sub``:
    GX then gets a small set, and the sample does not carry millions of keys across."""
    if c.label != "foreign key":
        return c
    present = pd.Series(sub[c.column].dropna().unique(), dtype="str")
    known = sorted(present[is_in(present, c.params["value_set"])].tolist())
    return replace(c, params={**c.params, "value_set": known})


class ValidationDisagreement(RuntimeError):
    """The accelerated masks and Great Expectations disagree: a bug, never a data fault."""


class GXValidator:
    """Runs a table's GX suite on a :class:`Sample`; one ephemeral context for its lifetime."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # GX imports deprecated stdlib modules
            warnings.simplefilter("ignore", DeprecationWarning)
            import great_expectations as gx
        for name in [
            n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")
        ]:
            logging.getLogger(name).setLevel(logging.WARNING)  # no INFO chatter on the terminal

        self._gx = gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self._context.data_sources.add_pandas("ingest").add_dataframe_asset("frame")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        self._suites = 0

    def expectation(self, check: Check):
        import great_expectations.expectations as E

        p = check.params
        kind = check.kind
        if kind == "expect_column_values_to_not_be_null":
            return E.ExpectColumnValuesToNotBeNull(column=check.column)
        if kind == "expect_column_values_to_be_in_set":
            return E.ExpectColumnValuesToBeInSet(
                column=check.column, value_set=list(p["value_set"])
            )
        if kind == "expect_column_values_to_be_between":
            return E.ExpectColumnValuesToBeBetween(
                column=check.column, min_value=p.get("min_value"), max_value=p.get("max_value")
            )
        if kind == "expect_column_values_to_match_regex":
            return E.ExpectColumnValuesToMatchRegex(column=check.column, regex=p["regex"])
        if kind == "expect_column_values_to_be_unique":
            return E.ExpectColumnValuesToBeUnique(column=check.column)
        if kind == "expect_column_pair_values_a_to_be_greater_than_b":
            return E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=p["column_A"], column_B=p["column_B"], or_equal=p["or_equal"],
                ignore_row_if="either_value_is_missing")
        raise ValueError(f"no expectation for {kind}")

    def validate(self, sample: Sample) -> dict[str, Any]:
        """Run the suite on the sample and check it agrees with the masks row by row."""
        started = time.perf_counter()
        rows = sample.rows
        self._suites += 1
        suite = self._context.suites.add(self._gx.ExpectationSuite(
            name=f"{sample.table}-{self._suites}",
            expectations=[self.expectation(c) for c in sample.checks]))
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": sample.frame})
        result = batch.validate(suite, result_format={
            "result_format": "COMPLETE", "unexpected_index_column_names": [ROW],
            "partial_unexpected_count": 5,
        })
        results = {r.expectation_config.id: r for r in result.results}
        summary = []
        for c, e in zip(sample.checks, suite.expectations, strict=True):
            r = results.get(e.id)
            if r is None:
                raise ValidationDisagreement(f"GX returned no result for {c.id}")
            if r.exception_info and r.exception_info.get("raised_exception"):
                raise ValidationDisagreement(
                    f"GX could not evaluate {c.id}: {r.exception_info.get('exception_message')}")
            gx_rows = {int(d[ROW]) for d in r.result.get("unexpected_index_list") or []}
            mask_rows = set(rows[sample.masks[c.id]].tolist())
            if gx_rows != mask_rows:
                diff = sorted(gx_rows ^ mask_rows)[:5]
                raise ValidationDisagreement(
                    f"{sample.table} {c.id}: GX and the mask disagree on rows {diff}")
            summary.append(
                {
                    "check": c.id,
                    "expectation": c.kind,
                    "column": c.column,
                    "success": bool(r.success),
                    "rows_checked_by_gx": len(rows),
                    "unexpected_by_gx": int(r.result.get("unexpected_count") or 0),
                    "unexpected_in_file": sample.unexpected_in_file[c.id],
                    "partial_unexpected": [
                        _jsonable(v) for v in r.result.get("partial_unexpected_list") or []
                    ],
                }
            )
        return {"suite": suite.name, "success": bool(result.success),
                "statistics": {k: _jsonable(v) for k, v in result.statistics.items()},
                "rows_checked_by_gx": len(rows), "rows_in_file": sample.rows_in_file,
                "validator_pid": os.getpid(), "seconds": round(time.perf_counter() - started, 3),
                "expectations": summary}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return str(pd.Timestamp(v).date())
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v
