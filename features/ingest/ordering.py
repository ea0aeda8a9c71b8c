"""Which incoming versions of a record may replace the stored one: newer only, and never out
of a final status without a stated basis.

Exports arrive late, twice and out of order; a register must never let a stale export turn
a contract found false back into a registered one. Each table declares the column that
orders its versions (:attr:`~features.standard.schema.Table.version_date`, falling back to
the event date); ties are broken by the export time of the file (``_exported_at``). An
incoming version with different content that is not strictly newer than the version it
would replace is *stale*; one that leaves a final status (``false_found``, ``exited`` …)
without naming the decision in the table's basis column is *irreversible*. Both go to
quarantine with both versions in the reason; identical content is never refused (a reload).

Versions of one record that arrive in the same delivery (the files of one run) are put in
order before they are judged: by record time, then export time, then their place in the
delivery (file order as given, then line). A correction delivered with the report it corrects
therefore wins whichever file came first, and the report goes to history, not to quarantine;
a correction dated like the report it corrects wins when it is listed after it. Rows replayed
from the queue came in earlier deliveries: they are judged after, against what this delivery
made current.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.ingest.membership import is_in
from features.ingest.merge import same_content
from features.standard.schema import Table

EXPORTED_AT = "_exported_at"
STALE = "stale"
IRREVERSIBLE = "irreversible"


@dataclass(frozen=True)
class Refusal:
    """One incoming row refused by ordering, with the rule and a reason naming both versions."""

    position: int  # row position in the incoming frame
    rule: str  # STALE or IRREVERSIBLE
    reason: str


@dataclass(frozen=True)
class Ordered:
    """The incoming rows that may be merged (in load order) and those refused."""

    accepted: pd.DataFrame
    refused: tuple[Refusal, ...]


def record_time(t: Table, df: pd.DataFrame) -> pd.Series:
    """The record's own time: its version date where set, else its event date, else missing."""
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[s]")
    for col in (t.version_date, t.event_date):
        if col is not None and col in df:
            out = out.fillna(pd.to_datetime(df[col]).astype("datetime64[s]"))
    return out


def _show(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def _describe(t: Table, row: pd.Series, stored: bool) -> str:
    """The fields that ordered a version: its dates (the one set is what orders it), status,
    export time, and for the stored version the run that loaded it."""
    dates = dict.fromkeys(c for c in (t.version_date, t.event_date) if c is not None and c in row)
    parts = [f"{c}={_show(row[c])}" for c in dates]
    if "status" in row:
        parts.append(f"status={_show(row['status'])}")
    parts.append(f"exported={_show(row.get(EXPORTED_AT))}")
    if stored and "_run_id" in row and not pd.isna(row["_run_id"]):
        parts.append(f"loaded by run {row['_run_id']}")
    return ", ".join(parts)


def _export_times(df: pd.DataFrame) -> pd.Series:
    if EXPORTED_AT not in df:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[us, UTC]")
    return pd.to_datetime(df[EXPORTED_AT], utc=True)


def _key(times: pd.Series) -> np.ndarray:
    """Times as sortable integers, a missing time before every real one."""
    return times.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).astype(
        "datetime64[us]"
    ).astype(np.int64)


def _refusal(t: Table, pos: int, rule: str, new: pd.Series, old: pd.Series) -> Refusal:
    k = new[t.key]
    what = (
        "is not newer than the version it would replace"
        if rule == STALE
        else f"would leave final status {old['status']!r} for {new['status']!r} "
        f"without {t.status_basis}"
    )
    return Refusal(
        pos,
        rule,
        f"{rule}: {t.key} {k} {what} "
        f"(incoming {_describe(t, new, False)}; stored {_describe(t, old, True)})",
    )


def _judge(t: Table, old: pd.DataFrame, new: pd.DataFrame,
           tie_wins: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Aligned stored and incoming versions with different content: (stale, irreversible).

    ``tie_wins``: both versions came in this delivery and ``new`` is placed after ``old``,
    so equal record and export times make ``new`` the later one, not a stale one."""
    rt_new, rt_old = _key(record_time(t, new)), _key(record_time(t, old))
    et_new, et_old = _key(_export_times(new)), _key(_export_times(old))
    tie = (rt_new == rt_old) & (et_new == et_old)
    newer = (rt_new > rt_old) | ((rt_new == rt_old) & (et_new > et_old)) | (tie & tie_wins)
    irreversible = np.zeros(len(new), dtype=bool)
    if t.final_statuses and t.status_basis is not None:
        was, now = old["status"].to_numpy(), new["status"].to_numpy()
        basis = new[t.status_basis].astype("str").str.strip().fillna("").to_numpy()
        irreversible = np.isin(was, t.final_statuses) & (now != was) & (basis == "")
    return ~newer, newer & irreversible


def _judging_order(t: Table, incoming: pd.DataFrame, positions: np.ndarray,
                   delivered: int) -> np.ndarray:
    """``positions`` (rows whose key repeats in ``incoming``) in the order they are judged:
    this delivery's rows by record time, export time and place; replayed rows (at or after
    ``delivered``) after them, in load order."""
    rows = incoming.iloc[positions]
    replayed = positions >= delivered
    rt, et = _key(record_time(t, rows)), _key(_export_times(rows))
    rt[replayed] = 0
    et[replayed] = 0
    return positions[np.lexsort((positions, et, rt, replayed))]


def order_versions(t: Table, existing: pd.DataFrame, incoming: pd.DataFrame,
                   delivered: int | None = None) -> Ordered:
    """Decide which incoming versions may be merged into ``existing``.

    ``existing`` holds the stored current versions of (at least) the keys in ``incoming``,
    with lineage. ``incoming`` is in load order: the first ``delivered`` rows (default all)
    come from this delivery's files, the rest were replayed from the queue. Keys that occur
    once are judged against the stored version in one vectorised pass (a full re-delivery
    costs a comparison, not a loop); keys that occur several times are judged one after the
    other in :func:`_judging_order`, each against the version before it, and come back in
    that order, so that the merge keeps the last one.
    """
    key = t.key
    delivered = len(incoming) if delivered is None else delivered
    stored_hit = is_in(incoming[key], existing[key])
    repeated = incoming[key].duplicated(keep=False).to_numpy()
    refused: list[Refusal] = []
    stored = existing.drop_duplicates(key, keep="last").set_index(key, drop=False)
    single = np.flatnonzero(stored_hit & ~repeated)
    if len(single):
        new = incoming.iloc[single].reset_index(drop=True)
        old = stored.loc[new[key]].reset_index(drop=True)
        differs = ~same_content(old, new, t.column_names)
        idx = np.flatnonzero(differs)
        if len(idx):
            stale, irreversible = _judge(t, old.iloc[idx], new.iloc[idx])
            for rule, mask in ((STALE, stale), (IRREVERSIBLE, irreversible)):
                refused += [
                    _refusal(t, int(single[i]), rule, new.iloc[i], old.iloc[i]) for i in idx[mask]
                ]
    slots = np.flatnonzero(repeated)
    judged = _judging_order(t, incoming, slots, delivered)
    # per key: the version the next one is judged against, and whether it is of this delivery
    current: dict[object, tuple[pd.Series, bool]] = {}
    for pos in judged:
        row = incoming.iloc[pos]
        k = row[key]
        ours = bool(pos < delivered)
        held = current.get(k)
        if held is None and k not in stored.index:
            current[k] = (row, ours)
            continue
        old_row, same_delivery = (stored.loc[k], False) if held is None else (
            held[0], held[1] and ours)
        old1 = old_row.to_frame().T.reset_index(drop=True)
        new1 = row.to_frame().T.reset_index(drop=True)
        if same_content(old1, new1, t.column_names)[0]:
            continue
        stale, irreversible = _judge(t, old1, new1, tie_wins=same_delivery)
        if stale[0] or irreversible[0]:
            rule = STALE if stale[0] else IRREVERSIBLE
            refused.append(_refusal(t, int(pos), rule, row, old_row))
            continue
        current[k] = (row, ours)
    reordered = not np.array_equal(judged, slots)
    if not refused and not reordered:
        return Ordered(incoming, ())
    order = np.arange(len(incoming))
    order[slots] = judged  # repeated keys' slots take their judging order; others stay put
    keep = np.ones(len(incoming), dtype=bool)
    keep[[r.position for r in refused]] = False
    return Ordered(incoming.iloc[order[keep[order]]],
                   tuple(sorted(refused, key=lambda r: r.position)))
