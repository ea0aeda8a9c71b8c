"""Which rows of a typed export go to quarantine, and the reason text each one carries (all
the rules it breaks, parse failures once), so an operator can fix the source record.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from features.ingest.parsing import TYPE_WORD
from features.ingest.readers import RawFile
from features.ingest.validation import Check


def row_reasons(
    raw: RawFile,
    parsed_failures: dict[str, np.ndarray],
    typed: pd.DataFrame,
    cks: list[Check],
    masks: dict[str, np.ndarray],
) -> tuple[np.ndarray, list[str], Counter]:
    """Rows to quarantine, their reason text (all rules they break) and counts per rule.

    A value that could not be typed is reported once, as a parse failure, not again as the
    null it became.
    """
    n = len(typed)
    bad = np.zeros(n, dtype=bool)
    for m in [*parsed_failures.values(), *masks.values()]:
        bad |= m
    idx = np.flatnonzero(bad)
    texts: dict[int, list[str]] = {int(i): [] for i in idx}
    counts: Counter = Counter()
    for col, m in parsed_failures.items():
        word = TYPE_WORD[raw.table.column(col).dtype]
        for i in np.flatnonzero(m):
            texts[int(i)].append(f"parse:{col}: value {raw.frame[col].iloc[i]!r} is not {word}")
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
    return bad, ["; ".join(texts[int(i)]) for i in idx], counts


def quarantine_frame(
    raw: RawFile, bad: np.ndarray, reasons: list[str], run_id: str
) -> pd.DataFrame:
    """Every original field (as text, under the standard's name or the file's header), the
    reason, the source file and line; malformed lines keep their raw text."""
    bad_rows = raw.frame[bad]
    out = pd.DataFrame(
        {c: bad_rows[c].astype("str").where(bad_rows[c].notna()) for c in bad_rows.columns}
    )
    out["_raw_text"] = pd.Series([None] * len(out), dtype="str", index=out.index)
    out["reason"] = reasons
    out["_source_line"] = raw.lines[bad]
    if len(raw.malformed):
        out = pd.concat([out, raw.malformed], ignore_index=True)
    out["_source_file"] = str(raw.path)
    out["_run_id"] = run_id
    return out.reset_index(drop=True)
