"""The quarantine queue on disk: one small versioned dataset per table, published in the same
store manifest as the table it belongs to, so that a row moves from quarantine into the
store (a replay) or is closed (a rejection) in one atomic step.

Each table's queue lives under ``.versions/quarantine.<table>/<version>/queue.parquet`` and
changes only while that table's lock is held: by an ingest run (new rows, replays) or by
:func:`reject` (an operator closing rows).
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from features.ingest.quarantine import OPEN, REJECTED, conform_queue, empty_queue, set_state
from features.settings import Settings
from features.standard.tables import LOAD_ORDER
from pipelines.store import curated as store

QUEUE_FILE = "queue.parquet"
PREFIX = "quarantine."


def dataset(table_name: str) -> str:
    return f"{PREFIX}{table_name}"


def read_queue(snap: store.Snapshot, table_name: str) -> pd.DataFrame:
    """Every queued row of one table (all states) as the snapshot's manifest left them."""
    version = snap.version(dataset(table_name))
    if version is None or not (version / QUEUE_FILE).exists():
        return empty_queue()
    return conform_queue(pd.read_parquet(version / QUEUE_FILE))


def stage_queue(table_name: str, queue: pd.DataFrame, run_id: str,
                settings: Settings) -> tuple[Path, dict]:
    """Write a table's next queue version to a staging directory (table lock held)."""
    staging = store.new_version_dir(dataset(table_name), run_id, settings)
    conform_queue(queue).to_parquet(staging / QUEUE_FILE, index=False)
    counts = queue["state"].value_counts().to_dict()
    return staging, {"table": dataset(table_name), "version": run_id, "rows": len(queue),
                     "states": {k: int(v) for k, v in counts.items()}}


def read_all(settings: Settings, table_name: str | None = None) -> pd.DataFrame:
    """Queued rows of one table or of all of them, from one snapshot."""
    snap = store.snapshot(settings)
    names = [table_name] if table_name else list(LOAD_ORDER)
    frames = [read_queue(snap, n) for n in names]
    return conform_queue(pd.concat(frames, ignore_index=True)) if frames else empty_queue()


class QuarantineError(ValueError):
    pass


def reject(settings: Settings, row_ids: list[str], *, by: str, note: str) -> int:
    """Close open rows for good with the operator's name and reason; returns how many.

    A rejected row is never replayed; it stays in the queue, so counts still add up.
    """
    if not by.strip() or not note.strip():
        raise QuarantineError("a rejection needs the operator's name (--by) and a reason (--note)")
    queued = read_all(settings)
    found = queued[queued["row_id"].isin(row_ids)]
    unknown = sorted(set(row_ids) - set(found["row_id"]))
    if unknown:
        raise QuarantineError(f"no quarantined row with id {', '.join(unknown)}")
    closed = found[found["state"] != OPEN]
    if len(closed):
        first = closed.iloc[0]
        raise QuarantineError(f"row {first['row_id']} is {first['state']} already, not open")
    run_id = "reject-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    at = datetime.now(UTC).isoformat(timespec="seconds")
    tables = [n for n in LOAD_ORDER if n in set(found["table"])]
    with ExitStack() as locks:
        staged = {}
        for name in tables:
            locks.enter_context(store.table_lock(name, settings))
            queue = read_queue(store.snapshot(settings), name)
            ids = found.loc[found["table"] == name, "row_id"].tolist()
            moved = queue[queue["row_id"].isin(ids) & (queue["state"] != OPEN)]
            if len(moved):  # a run released it between our look and our lock
                first = moved.iloc[0]
                raise QuarantineError(
                    f"row {first['row_id']} is {first['state']} already, not open"
                )
            queue = set_state(queue, ids, REJECTED, by=by, at=at, note=note)
            staged[dataset(name)] = stage_queue(name, queue, run_id, settings)
        store.publish(run_id, staged, settings, note=f"quarantine reject by {by}")
    return len(found)
