"""Merging validated records into the current version of a table, keeping history.

Records are identified by the table's key. A record whose content is identical to the stored
one changes nothing (so loading the same data twice adds nothing); a record with the same key
and different content is a correction from a later export: it replaces the stored one, and
the stored one moves to history. Incoming frames are in load order, so when one run carries
several versions of a record the last one wins and the earlier ones go to history too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.ingest.membership import is_in
from features.standard.schema import Table


@dataclass
class MergeResult:
    current: pd.DataFrame  # the merged records (standard columns + lineage)
    superseded: pd.DataFrame  # replaced versions, with the lineage they were loaded with
    inserted: int
    updated: int
    unchanged: int
    in_run: int = 0  # versions of this run replaced by a later version in the same run


def same_content(a: pd.DataFrame, b: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Row-wise equality of two aligned frames on ``columns``, a null equal to a null."""
    same = np.ones(len(a), dtype=bool)
    for c in columns:
        x, y = a[c], b[c]
        eq = (x.to_numpy() == y.to_numpy()) if len(a) else np.ones(0, dtype=bool)
        eq = (
            pd.array(eq).fillna(False).to_numpy(dtype=bool)
            if eq.dtype == object
            else eq.astype(bool)
        )
        same &= eq | (x.isna().to_numpy() & y.isna().to_numpy())
    return same


def rows(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``df[mask]`` without copying millions of rows when the mask keeps all or none."""
    if mask.all():
        return df
    return df.iloc[:0] if not mask.any() else df[mask]


def _collapse_run(t: Table, incoming: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last version of each key within the run, and each earlier version that differs from
    the one that followed it (identical repeats are not history)."""
    key = t.key
    dup = incoming[key].duplicated(keep=False).to_numpy()
    if not dup.any():
        return incoming, incoming.iloc[:0]
    chain = incoming[dup].sort_values(key, kind="stable").reset_index(drop=True)
    successor = chain.shift(-1)
    followed = (chain[key] == successor[key]).fillna(False).to_numpy(dtype=bool)
    differs = ~same_content(chain, successor, t.column_names)
    latest = rows(incoming, ~incoming[key].duplicated(keep="last").to_numpy())
    return latest, chain[followed & differs]


def merge_records(t: Table, existing: pd.DataFrame, incoming: pd.DataFrame,
                  unique_incoming: bool = False) -> MergeResult:
    """Merge ``incoming`` (validated, in load order) into ``existing`` (current records).

    ``existing`` only needs the stored records whose keys may occur in ``incoming``; records
    of ``existing`` that ``incoming`` does not touch come back unchanged in ``current``.
    ``unique_incoming`` skips the search for repeated keys when the caller knows there are
    none (a single file, whose duplicated keys validation has already quarantined).
    """
    key = t.key
    if unique_incoming:  # the caller knows keys are unique (one validated file)
        latest, superseded_in_run = incoming, incoming.iloc[:0]
    else:
        latest, superseded_in_run = _collapse_run(t, incoming)
    stored = existing.set_index(key, drop=False)
    hit = is_in(latest[key], existing[key])
    old = stored.loc[rows(latest, hit)[key]].reset_index(drop=True)
    new = rows(latest, hit).reset_index(drop=True)
    unchanged = same_content(old, new, t.column_names)
    replaced_keys = new[key][~unchanged]
    keep_existing = ~is_in(existing[key], replaced_keys)
    add = np.ones(len(latest), dtype=bool)
    add[np.flatnonzero(hit)[unchanged]] = False
    kept, added = rows(existing, keep_existing), rows(latest, add)
    current = added if kept.empty else pd.concat([kept, added], ignore_index=True)
    superseded = pd.concat([superseded_in_run, old[~unchanged]], ignore_index=True)
    return MergeResult(
        current=current, superseded=superseded, inserted=int((~hit).sum()),
        updated=int((~unchanged).sum()), unchanged=int(unchanged.sum()),
        in_run=len(superseded_in_run),
    )


def partition_years(t: Table, df: pd.DataFrame) -> np.ndarray:
    """The curated partition (year of the table's partition date) of each row; 0 when the
    table is not partitioned."""
    if t.partition_date is None:
        return np.zeros(len(df), int)
    return df[t.partition_date].dt.year.to_numpy()
