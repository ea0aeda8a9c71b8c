"""The curated store: one versioned Parquet directory per table, swapped atomically.

Layout under ``$TECHCREDIT_HOME/curated/``::

    <table>                      symlink to the current version (swapped with os.replace)
    .versions/<table>/<version>/ one complete version of the table
        year=<YYYY>/part.parquet     partitioned by the table's ``partition_date`` year
        part.parquet                 tables without a partition date
        _history/<run>.parquet       record versions superseded by a later export
        _manifest.json               files loaded so far (by content hash) and row counts
    .locks/<table>.lock          flock held by the run writing the table

A run builds its new version beside the current one (unchanged files are hard links, so this
is cheap) and publishes it by replacing the symlink in one ``os.replace``: readers and a run
killed half-way only ever see a complete version. Files and directories whose names start
with ``_`` or ``.`` are ignored by Arrow's dataset reader, so ``pd.read_parquet(curated/<t>)``
also works directly. Curated files carry lineage columns (``_source_file``, ``_source_line``,
``_run_id``); :func:`read_curated` returns the standard's columns only.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from features.ingest.lineage import LINEAGE, curated_schema
from features.settings import Settings, get_settings
from features.standard.schema import Table, conform
from features.standard.tables import table

MANIFEST = "_manifest.json"
HISTORY = "_history"


def table_link(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).curated_dir / name


def versions_dir(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).curated_dir / ".versions" / name


def current_version(name: str, settings: Settings | None = None) -> Path | None:
    """The directory of the table's current version, or None before the first load."""
    link = table_link(name, settings)
    if not link.is_symlink():
        return None
    return link.resolve()


def read_manifest(version: Path | None) -> dict:
    if version is None:
        return {"loaded_files": {}, "rows": 0}
    return json.loads((version / MANIFEST).read_text(encoding="utf-8"))


def data_files(version: Path) -> list[Path]:
    """The Parquet files holding current records (not history) of a version."""
    return sorted(
        p
        for p in version.rglob("*.parquet")
        if not p.relative_to(version).parts[0].startswith(("_", "."))
    )


def read_version(t: Table, version: Path | None, columns: list[str] | None = None) -> pa.Table:
    """All current records of one version as Arrow, with lineage columns; empty if none."""
    schema = curated_schema(t)
    cols = columns or schema.names
    files = data_files(version) if version is not None else []
    if not files:
        return schema.empty_table().select(cols)
    dataset = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
    return dataset.to_table(columns=cols)


def to_frame(t: Table, at: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with dates as datetime64 (not Python objects), then the standard dtypes."""
    df = at.to_pandas(date_as_object=False)
    std = conform(t, df[t.column_names])
    extra = [c for c in df.columns if c not in t.column_names]
    return pd.concat([std, df[extra]], axis=1) if extra else std


def read_curated(table_name: str, settings: Settings | None = None) -> pd.DataFrame:
    """The current version of every record of a table, with exactly the standard's columns.

    Dtypes follow :func:`features.standard.tables.conform`; an empty frame with those dtypes is
    returned before the first load, so callers need no special case.
    """
    t = table(table_name)
    at = read_version(t, current_version(table_name, settings), columns=t.column_names)
    return to_frame(t, at).reset_index(drop=True)


def read_history(table_name: str, settings: Settings | None = None) -> pd.DataFrame:
    """Every superseded version of a record (standard columns, lineage, ``_superseded_run``)."""
    t = table(table_name)
    version = current_version(table_name, settings)
    files = sorted((version / HISTORY).glob("*.parquet")) if version is not None else []
    if not files:
        return pd.DataFrame(columns=[*t.column_names, *LINEAGE, "_superseded_run"])
    return to_frame(t, ds.dataset([str(f) for f in files], format="parquet").to_table())


@contextmanager
def table_lock(name: str, settings: Settings | None = None) -> Iterator[None]:
    """Exclusive lock on a table for the whole read-merge-publish cycle of a run.

    ``flock`` is released by the kernel when the process dies, so a killed run never leaves
    a stale lock behind.
    """
    locks = (settings or get_settings()).curated_dir / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_version_dir(name: str, version: str, settings: Settings | None = None) -> Path:
    """A fresh staging directory for a version; leftovers of killed runs are removed first.

    Call with the table lock held.
    """
    root = versions_dir(name, settings)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("*.staging"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = root / f"{version}.staging"
    staging.mkdir()
    return staging


def link_or_copy(src: Path, dst: Path) -> None:
    """Carry an unchanged file into a new version: a hard link, or a copy across devices."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish(name: str, staging: Path, manifest: dict, settings: Settings | None = None) -> Path:
    """Make a staged version current in one atomic step, then drop old versions.

    The manifest is written last inside the staging directory, the directory is renamed to
    its final name, and the table's symlink is replaced with ``os.replace`` (atomic on POSIX).
    """
    (staging / MANIFEST).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    previous = current_version(name, settings)
    final = staging.with_suffix("")
    staging.rename(final)
    link = table_link(name, settings)
    tmp_link = link.with_name(f".{name}.link-{final.name}")
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(os.path.relpath(final, link.parent))
    os.replace(tmp_link, link)
    _fsync_dir(link.parent)
    # Keep the new version and the one it replaced, by identity: run ids of runs in the same
    # second do not sort in publishing order, and sorting once deleted the version just made.
    keep = {final.resolve(), previous}
    for old in final.parent.iterdir():
        if old.is_dir() and not old.name.endswith(".staging") and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
