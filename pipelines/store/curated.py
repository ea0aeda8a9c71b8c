"""The curated store: versioned Parquet tables that one manifest makes current together.

Layout under ``$TECHCREDIT_HOME/curated/``::

    CURRENT.json                      the store manifest in force: each table's version
    .manifests/<seq>-<run>.json       every manifest published (the last N kept: rollback)
    .ledger/<seq>-<run>.{snapshot,mark}  the contract ledger's state at that manifest
                                          (pipelines.store.ledger_snapshots)
    .versions/<table>/<version>/      one complete version of a table
        year=<YYYY>/part.parquet          partitioned by the table's ``partition_date`` year
        part.parquet                      tables without a partition date
        _history/<run>.parquet            record versions superseded by a later export
        _manifest.json                    files loaded so far (by content hash), row counts
    .locks/<table>.lock, .locks/_store.lock

A run stages a new version of each table it touches beside the current one (unchanged files
are hard links), fsyncs them, renames the staging directories and then replaces
``CURRENT.json`` in one ``os.replace``: every table of the run becomes visible at once, and a
reader that resolves tables through one :class:`Snapshot` sees either the whole old store
or the whole new one. A run killed at any point leaves the old manifest in force; its
renamed but unpublished versions are removed by the next publish. Curated files carry
lineage columns (``_source_file``, ``_source_line``, ``_run_id``, ``_exported_at``);
:meth:`Snapshot.read` returns the standard's columns only.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from features.ingest.lineage import LINEAGE, curated_schema
from features.settings import Settings, get_settings
from features.standard.schema import Table, conform
from features.standard.tables import LOAD_ORDER, table

MANIFEST = "_manifest.json"
HISTORY = "_history"
CURRENT = "CURRENT.json"
MANIFESTS = ".manifests"
LEDGER = ".ledger"  # the contract ledger's snapshots, named as the manifests they go with
CRASH_ENV = "TECHCREDIT_CRASH_AT"


def crash_point(name: str) -> None:
    """A named point where the crash tests kill this process (``TECHCREDIT_CRASH_AT=name``).

    SIGKILL, not an exception: nothing may run after it, exactly as when the machine dies.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class StoreManifest:
    """One published state of the store: which version of each table is current."""

    sequence: int
    run_id: str
    published_at: str
    tables: dict[str, str] = field(default_factory=dict)  # table -> version directory name
    rows: dict[str, int] = field(default_factory=dict)
    note: str = "ingest"

    @property
    def file_name(self) -> str:
        return f"{self.sequence:08d}-{self.run_id}.json"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> StoreManifest:
        return cls(**json.loads(text))


EMPTY = StoreManifest(0, "", "")


def versions_dir(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).curated_dir / ".versions" / name


def current_manifest(settings: Settings | None = None) -> StoreManifest:
    path = (settings or get_settings()).curated_dir / CURRENT
    if not path.exists():
        return EMPTY
    return StoreManifest.from_json(path.read_text(encoding="utf-8"))


def read_table_manifest(version: Path | None) -> dict:
    """The files a table version holds (by content hash) and its row count."""
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


@dataclass(frozen=True)
class Snapshot:
    """The store as one manifest left it: read several tables from the same state.

    Versions stay on disk for the last ``store.keep_runs`` publishes, so a snapshot stays
    readable while later runs publish.
    """

    manifest: StoreManifest
    settings: Settings

    def version(self, name: str) -> Path | None:
        v = self.manifest.tables.get(name)
        return None if v is None else versions_dir(name, self.settings) / v

    def read(self, name: str) -> pd.DataFrame:
        """Every current record of a table with exactly the standard's columns and dtypes
        (an empty typed frame before the first load)."""
        t = table(name)
        at = read_version(t, self.version(name), columns=t.column_names)
        return to_frame(t, at).reset_index(drop=True)

    def read_with_lineage(self, name: str) -> pd.DataFrame:
        t = table(name)
        return to_frame(t, read_version(t, self.version(name))).reset_index(drop=True)

    def history(self, name: str) -> pd.DataFrame:
        """Every superseded version of a record (standard columns, lineage, ``_superseded_run``)."""
        t = table(name)
        version = self.version(name)
        files = sorted((version / HISTORY).glob("*.parquet")) if version is not None else []
        if not files:
            return pd.DataFrame(columns=[*t.column_names, *LINEAGE, "_superseded_run"])
        return to_frame(t, ds.dataset([str(f) for f in files], format="parquet").to_table())


def snapshot(settings: Settings | None = None) -> Snapshot:
    s = settings or get_settings()
    return Snapshot(current_manifest(s), s)


def current_version(name: str, settings: Settings | None = None) -> Path | None:
    """The directory of the table's current version, or None before the first load."""
    return snapshot(settings).version(name)


def read_curated(table_name: str, settings: Settings | None = None) -> pd.DataFrame:
    """One table's current records; read several tables through one :func:`snapshot`."""
    return snapshot(settings).read(table_name)


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    """An exclusive ``flock``; the kernel releases it when the process dies (no stale lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def table_lock(name: str, settings: Settings | None = None) -> Iterator[None]:
    """Exclusive lock on a table for the whole read-merge-publish cycle of a run."""
    return _flock((settings or get_settings()).curated_dir / ".locks" / f"{name}.lock")


def store_lock(settings: Settings | None = None) -> Iterator[None]:
    """Serialises changes of the store manifest (taken after any table locks)."""
    return _flock((settings or get_settings()).curated_dir / ".locks" / "_store.lock")


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


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory below ``root`` (directories after their entries)."""
    for dirpath, _, files in os.walk(root, topdown=False):
        for f in files:
            _fsync(Path(dirpath) / f)
        _fsync(Path(dirpath))


def write_durable(path: Path, text: str) -> None:
    """Write a small file to a temporary name, fsync it, rename it over ``path``, fsync the
    directory: after a crash the file is either the old one or the new one, never torn."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)


def publish(
    run_id: str,
    staged: Mapping[str, tuple[Path, dict]],
    settings: Settings | None = None,
    note: str = "ingest",
    timings: dict[str, float] | None = None,
) -> StoreManifest:
    """Make every staged table version current together, then drop what is no longer kept.

    ``staged`` maps a table to its staging directory and its table manifest. Call with the
    staged tables' locks held. ``timings`` receives the seconds spent flushing the data to
    disk (``fsync``) and switching the manifest (``manifest``: renames, manifest, clean-up).
    """
    s = settings or get_settings()
    t0 = time.perf_counter()
    for staging, table_manifest in staged.values():
        (staging / MANIFEST).write_text(
            json.dumps(table_manifest, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        fsync_tree(staging)
    crash_point("publish:fsynced")
    t1 = time.perf_counter()
    with store_lock(s):
        finals = {}
        for name, (staging, _) in staged.items():
            final = staging.with_suffix("")
            staging.rename(final)
            _fsync(final.parent)
            finals[name] = final.name
            crash_point(f"publish:renamed:{name}")
        before = current_manifest(s)
        manifest = StoreManifest(
            sequence=before.sequence + 1,
            run_id=run_id,
            published_at=datetime.now(UTC).isoformat(timespec="seconds"),
            tables={**before.tables, **finals},
            rows={**before.rows, **{n: int(m.get("rows", 0)) for n, (_, m) in staged.items()}},
            note=note,
        )
        history = s.curated_dir / MANIFESTS
        history.mkdir(parents=True, exist_ok=True)
        write_durable(history / manifest.file_name, manifest.to_json())
        crash_point("publish:manifest-kept")
        write_durable(s.curated_dir / CURRENT, manifest.to_json())
        crash_point("publish:current")
        collect_garbage(s)
    if timings is not None:
        timings["fsync"] = round(t1 - t0, 3)
        timings["manifest"] = round(time.perf_counter() - t1, 3)
    return manifest


def manifests(settings: Settings | None = None) -> list[StoreManifest]:
    """Every kept manifest, newest first."""
    root = (settings or get_settings()).curated_dir / MANIFESTS
    files = sorted(root.glob("*.json"), reverse=True) if root.is_dir() else []
    return [StoreManifest.from_json(f.read_text(encoding="utf-8")) for f in files]


def collect_garbage(settings: Settings) -> None:
    """Keep the last ``store.keep_runs`` manifests and the versions they name; remove the rest
    (and versions renamed by runs killed before their manifest). Call with the store lock."""
    kept = manifests(settings)[: max(settings.store.keep_runs, 1)]
    root = settings.curated_dir / MANIFESTS
    names = {m.file_name for m in kept}
    for f in root.glob("*.json"):
        if f.name not in names:
            f.unlink(missing_ok=True)
    stems = {Path(n).stem for n in names}
    for f in (settings.curated_dir / LEDGER).glob("*"):
        if f.is_file() and f.name.split(".")[0] not in stems:
            f.unlink(missing_ok=True)
    live = current_manifest(settings)
    for name in {*LOAD_ORDER, *live.tables}:
        wanted = {m.tables[name] for m in [live, *kept] if name in m.tables}
        vdir = versions_dir(name, settings)
        if not vdir.is_dir():
            continue
        for v in vdir.iterdir():
            if v.is_dir() and not v.name.endswith(".staging") and v.name not in wanted:
                shutil.rmtree(v, ignore_errors=True)


class RollbackError(ValueError):
    pass


def rollback(run_id: str, settings: Settings | None = None) -> StoreManifest:
    """Make the state a kept run published current again, as a new manifest (on record)."""
    s = settings or get_settings()
    target = next((m for m in manifests(s) if m.run_id == run_id), None)
    if target is None:
        known = ", ".join(m.run_id for m in manifests(s)) or "none"
        raise RollbackError(f"run {run_id} is not among the kept store versions ({known})")
    with ExitStack() as locks:
        for name in sorted({*LOAD_ORDER, *target.tables}, key=_lock_order):
            locks.enter_context(table_lock(name, s))
        locks.enter_context(store_lock(s))
        missing = [n for n, v in target.tables.items() if not (versions_dir(n, s) / v).is_dir()]
        if missing:
            raise RollbackError(f"run {run_id}: versions of {', '.join(missing)} are gone")
        before = current_manifest(s)
        manifest = StoreManifest(
            sequence=before.sequence + 1,
            run_id=f"rollback-{datetime.now(UTC):%Y%m%dT%H%M%S}",
            published_at=datetime.now(UTC).isoformat(timespec="seconds"),
            tables=dict(target.tables),
            rows=dict(target.rows),
            note=f"rollback to {run_id} (sequence {target.sequence})",
        )
        write_durable(s.curated_dir / MANIFESTS / manifest.file_name, manifest.to_json())
        write_durable(s.curated_dir / CURRENT, manifest.to_json())
        collect_garbage(s)
    return manifest


def _lock_order(name: str) -> int:
    """Tables are locked in load order, extra datasets after them: no two runs wait in a circle."""
    return LOAD_ORDER.index(name) if name in LOAD_ORDER else len(LOAD_ORDER)
