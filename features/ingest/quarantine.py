"""Quarantine as a queue: which rows of an export are held back, why, and which of them may
be loaded later.

A row is held back with every rule it breaks (parse failures once). Its original fields are
kept as text, so that when the only thing wrong was a reference to a record the register had
not delivered yet (contracts routinely arrive before their institution), a later run can
re-check it and load it (:func:`replayable`). Every queued row has a state: ``open``,
``released`` (loaded by a replay) or ``rejected`` (closed by an operator), with who, when and
why; rows are never deleted, so count in = loaded + quarantined holds across any sequence of
runs.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.ingest.parsing import TYPE_WORD
from features.ingest.readers import RawFile
from features.ingest.validation import Check
from features.standard.schema import Table

OPEN, RELEASED, REJECTED = "open", "released", "rejected"
STATES = (OPEN, RELEASED, REJECTED)
REFERENCE_RULE = "foreign key"
MALFORMED = "malformed row"
QUEUE_COLUMNS: dict[str, str] = {
    "row_id": "str",  # <first 16 hex of the file's SHA-256>:<source line>
    "table": "str",
    "source_file": "str",
    "source_sha256": "str",
    "source_line": "int64",
    "exported_at": "datetime64[us, UTC]",
    "fields": "str",  # JSON: the row's standard fields as the export had them (text)
    "raw_text": "str",  # a malformed line as it was
    "rules": "str",  # rule ids it breaks, ";"-separated
    "reason": "str",
    "replayable": "bool",
    "run_id": "str",  # the run that quarantined it
    "state": "str",
    "state_at": "str",
    "state_by": "str",
    "state_note": "str",
    "loaded_run": "str",  # the run that released it
}


@dataclass(frozen=True)
class Rejections:
    """The rows of one file that break a rule: mask, reason text, rule ids, counts per rule."""

    bad: np.ndarray
    reasons: list[str]
    rules: list[str]
    counts: Counter


def replayable(rules: str) -> bool:
    """A row may be re-checked later when every rule it breaks is a reference to a record."""
    ids = [r for r in rules.split(";") if r]
    return bool(ids) and all(r.startswith(f"{REFERENCE_RULE}:") for r in ids)


def row_reasons(
    raw: RawFile,
    parsed_failures: dict[str, np.ndarray],
    typed: pd.DataFrame,
    cks: list[Check],
    masks: dict[str, np.ndarray],
) -> Rejections:
    """Rows to quarantine with every rule they break; a value that could not be typed is
    reported once, as a parse failure, not again as the null it became."""
    n = len(typed)
    bad = np.zeros(n, dtype=bool)
    for m in [*parsed_failures.values(), *masks.values()]:
        bad |= m
    idx = np.flatnonzero(bad)
    texts: dict[int, list[str]] = {int(i): [] for i in idx}
    ids: dict[int, list[str]] = {int(i): [] for i in idx}
    counts: Counter = Counter()
    for col, m in parsed_failures.items():
        word = TYPE_WORD[raw.table.column(col).dtype]
        for i in np.flatnonzero(m):
            texts[int(i)].append(f"parse:{col}: value {raw.frame[col].iloc[i]!r} is not {word}")
            ids[int(i)].append(f"parse:{col}")
        counts[f"parse:{col}"] += int(m.sum())
    for c in cks:
        m = masks[c.id]
        if c.kind == "expect_column_values_to_not_be_null" and c.column in parsed_failures:
            m = m & ~parsed_failures[c.column]
        if not m.any():
            continue
        counts[c.id] += int(m.sum())
        for i in np.flatnonzero(m):
            texts[int(i)].append(c.describe(typed, int(i)))
            ids[int(i)].append(c.id)
    return Rejections(
        bad,
        ["; ".join(texts[int(i)]) for i in idx],
        [";".join(ids[int(i)]) for i in idx],
        counts,
    )


def _fields(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Each row's fields as JSON text (null stays null), keyed by the standard's names."""
    cols = [c for c in columns if c in frame.columns]
    text = {c: frame[c].astype("str").where(frame[c].notna()) for c in cols}
    return [
        json.dumps({c: (None if pd.isna(v) else v) for c, v in zip(cols, row, strict=True)},
                   ensure_ascii=False)
        for row in zip(*(text[c].tolist() for c in cols), strict=True)
    ] if cols and len(frame) else [json.dumps({})] * len(frame)


def empty_queue() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in QUEUE_COLUMNS.items()})


def queue_rows(
    raw: RawFile,
    rej: Rejections,
    sha256: str,
    run_id: str,
    exported_at: pd.Timestamp,
) -> pd.DataFrame:
    """The queue rows of one file's rejected and malformed lines, all ``open``."""
    bad_rows = raw.frame[rej.bad]
    n_bad, n_mal = len(bad_rows), len(raw.malformed)
    lines = np.r_[raw.lines[rej.bad], raw.malformed["_source_line"].to_numpy(dtype=np.int64)]
    rules = [*rej.rules, *([MALFORMED] * n_mal)]
    out = pd.DataFrame(
        {
            "row_id": [f"{sha256[:16]}:{int(line)}" for line in lines],
            "table": raw.table.name,
            "source_file": str(raw.path),
            "source_sha256": sha256,
            "source_line": lines.astype(np.int64),
            "exported_at": exported_at,
            "fields": [*_fields(bad_rows, raw.table.column_names), *([None] * n_mal)],
            "raw_text": [*([None] * n_bad), *raw.malformed["_raw_text"].tolist()],
            "rules": rules,
            "reason": [*rej.reasons, *raw.malformed["reason"].tolist()],
            "replayable": [replayable(r) for r in rules],
            "run_id": run_id,
            "state": OPEN,
        }
    )
    return conform_queue(out)


def refused_rows(
    t: Table,
    rows: pd.DataFrame,
    shas: list[str],
    rules: list[str],
    reasons: list[str],
    run_id: str,
) -> pd.DataFrame:
    """Queue rows for typed records refused after validation (stale or irreversible versions),
    ``shas`` the SHA-256 of each row's source file; never replayable: a newer export or an
    operator decides, not the passing of time."""
    out = pd.DataFrame(
        {
            "row_id": [
                f"{s[:16]}:{int(line)}" for s, line in zip(shas, rows["_source_line"], strict=True)
            ],
            "table": t.name,
            "source_file": rows["_source_file"].to_numpy(),
            "source_sha256": shas,
            "source_line": rows["_source_line"].to_numpy(dtype=np.int64),
            "exported_at": rows["_exported_at"].array,
            "fields": _fields(rows, t.column_names),
            "rules": rules,
            "reason": reasons,
            "replayable": False,
            "run_id": run_id,
            "state": OPEN,
        }
    )
    return conform_queue(out)


def conform_queue(df: pd.DataFrame) -> pd.DataFrame:
    """The queue's columns in order with their dtypes; columns not given are null."""
    out = {}
    for c, d in QUEUE_COLUMNS.items():
        s = df[c] if c in df else pd.Series([None] * len(df), index=df.index)
        if d == "datetime64[us, UTC]":
            s = pd.to_datetime(s, utc=True).astype(d)
        elif d == "str":
            s = s.astype("str").where(s.notna())
        else:
            s = s.astype(d)
        out[c] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def fields_frame(t: Table, queue: pd.DataFrame) -> pd.DataFrame:
    """The original fields of queued rows as an export-like text frame, for re-checking."""
    records = [json.loads(f) if isinstance(f, str) else {} for f in queue["fields"]]
    frame = pd.DataFrame.from_records(records, columns=t.column_names)
    return frame.astype("str").where(frame.notna())


def upsert(queue: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Add new rows; a row id seen before (a file re-read after a killed run) replaces the
    earlier row, so nothing is counted twice."""
    if new.empty:
        return queue
    kept = queue[~queue["row_id"].isin(new["row_id"])]
    return conform_queue(pd.concat([kept, new], ignore_index=True))


def set_state(
    queue: pd.DataFrame,
    row_ids: list[str],
    state: str,
    *,
    by: str,
    at: str,
    note: str,
    loaded_run: str | None = None,
) -> pd.DataFrame:
    """Move rows to a state (``released`` or ``rejected``) with who, when and why."""
    if state not in STATES:
        raise ValueError(f"unknown quarantine state {state!r}; use one of {', '.join(STATES)}")
    hit = queue["row_id"].isin(row_ids)
    out = queue.copy()
    out.loc[hit, "state"] = state
    out.loc[hit, "state_at"] = at
    out.loc[hit, "state_by"] = by
    out.loc[hit, "state_note"] = note
    if loaded_run is not None:
        out.loc[hit, "loaded_run"] = loaded_run
    return out
