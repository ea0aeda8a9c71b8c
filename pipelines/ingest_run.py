"""One ingest run: read, type, validate and quarantine each file, stage each table, publish.

This is the whole ingest without Prefect (the flow in :mod:`pipelines.ingest` wraps
:meth:`IngestRun.stage_table` and :meth:`IngestRun.publish` as tasks), so it is tested
directly. Tables are staged in ``features.standard.tables.LOAD_ORDER`` so that foreign keys resolve
against the curated store plus the good rows this run has staged. Every table stays locked
from reading its current version until the run has published (or given up).

Publishing waits for Great Expectations to agree with each file's masks, and only
:meth:`IngestRun.publish` waits: staging goes on while GX imports and checks in its worker
process. Should GX refuse a file, each later file whose foreign keys were checked against
that table is refused too, since its checks saw keys that will not be published.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import pandas as pd

from features.ingest.outcome import FileReport, IngestResult, TableReport
from features.ingest.parsing import parse_frame, to_standard
from features.ingest.quarantine import quarantine_frame, row_reasons
from features.ingest.readers import FileFault, read_export, table_for_path
from features.ingest.validation import (
    ValidationDisagreement,
    checks,
    key_columns,
    referenced_tables,
    run_masks,
    verification_sample,
)
from features.settings import Settings
from features.standard.schema import Table
from features.standard.tables import LOAD_ORDER, table
from pipelines import store
from pipelines.gx_worker import GXWorker
from pipelines.table_version import stage_version

COMPRESSION = "snappy"  # measured 20% faster to write than zstd on contracts; size is secondary


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def write_atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


@dataclass
class _Staged:
    """A table this run has staged and will publish once GX agreed with its files."""

    table: Table
    version: Path | None  # the current version it was staged from
    manifest: dict
    loads: list[tuple[FileReport, pd.DataFrame, Future]]  # files with good rows to merge
    # What _restage builds from the above:
    staging: Path | None = field(default=None, init=False)  # None when no file brings rows
    new_manifest: dict | None = field(default=None, init=False)
    report: TableReport = field(init=False)


class IngestRun:
    """State of one run: settings, the GX worker (imported once), locks, staged tables and the
    keys staged so far. Call :meth:`stage_table` per table in load order, then :meth:`publish`.

    Use it as a context manager: on exit it releases the locks, removes what it staged but
    did not publish, and stops the worker if it made its own. A worker passed in (tests,
    benchmarks, a long-lived service) is left running for its owner.
    """

    def __init__(self, settings: Settings, today: date | None = None, run_id: str | None = None,
                 worker: GXWorker | None = None) -> None:
        self.settings = settings
        self.today = today or date.today()
        self.run_id = run_id or new_run_id()
        self.result = IngestResult(self.run_id, datetime.now(UTC).isoformat(timespec="seconds"))
        self._own_worker = worker is None
        self.worker = worker or GXWorker()  # started now, so GX imports while files are read
        self._rng = np.random.default_rng(settings.seed)  # which accepted rows GX re-checks
        self._keys: dict[str, pd.Index] = {}
        self._staged: list[_Staged] = []
        self._locks = ExitStack()

    def close(self) -> None:
        for st in self._staged:  # staged but not published: the run failed before publish()
            for _, _, pending in st.loads:
                pending.cancel()  # a shared worker need not check files that will not load
            if st.staging is not None:
                shutil.rmtree(st.staging, ignore_errors=True)
        self._staged = []
        self._locks.close()
        if self._own_worker:
            self.worker.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def plan(self, paths: list[Path], table_name: str | None = None) -> dict[str, list[Path]]:
        """Files grouped by table in load order; missing files and unknown tables are faults."""
        groups: dict[str, list[Path]] = {}
        for p in paths:
            try:
                if not Path(p).is_file():  # said first: the name of a missing file is no clue
                    raise FileFault(Path(p), "not a file" if Path(p).exists() else "no such file")
                t = table_for_path(Path(p), table_name)
            except FileFault as fault:
                self.result.files.append(FileReport(str(p), fault=fault.problem))
                continue
            groups.setdefault(t.name, []).append(Path(p))
        return {name: groups[name] for name in LOAD_ORDER if name in groups}

    def known_keys(self, t: Table) -> dict[str, pd.Index]:
        """Keys each foreign key of ``t`` may point at: the store plus this run's loads."""
        out = {}
        for c in t.columns:
            if c.references is None:
                continue
            ref_table, ref_col = c.references.split(".")
            if ref_table not in self._keys:
                version = store.current_version(ref_table, self.settings)
                at = store.read_version(table(ref_table), version, columns=[ref_col])
                self._keys[ref_table] = pd.Index(at.column(ref_col).to_pandas()).unique()
            out[c.references] = self._keys[ref_table]
        return out

    def validate_file(self, t: Table, path: Path, encoding: str | None, seen: dict[str, str],
                      loaded_files: dict) -> tuple[FileReport, pd.DataFrame | None, Future | None]:
        """Read, type and validate one file; write its quarantine; return its good rows and the
        pending GX cross-check (which must succeed before the rows are published)."""
        rep = FileReport(str(path), t.name)
        clock = _Clock(rep.seconds)
        try:
            rep.sha256 = file_sha256(path)
            if rep.sha256 in loaded_files:
                prior = loaded_files[rep.sha256]["run_id"]
                rep.skipped = f"same content already loaded (run {prior}); nothing to do"
                return rep, None, None
            if rep.sha256 in seen:
                rep.skipped = f"same content as {seen[rep.sha256]} in this run; nothing to do"
                return rep, None, None
            raw = read_export(path, t.name, encoding)
        except FileFault as fault:
            rep.fault = fault.problem
            return rep, None, None
        except OSError as exc:
            rep.fault = f"unreadable file: {exc.strerror or exc}"
            return rep, None, None
        clock.lap("read")
        seen[rep.sha256] = str(path)
        rep.encoding = raw.encoding
        rep.extra_columns, rep.missing_nullable = raw.extra_columns, raw.missing_nullable
        parsed = parse_frame(t, raw.frame, strip=raw.encoding is not None)
        clock.lap("parse")
        cks = checks(t, self.today, self.known_keys(t))
        masks = run_masks(parsed.frame, cks)
        clock.lap("masks")
        pending = self.worker.submit(verification_sample(t, parsed.frame, cks, masks, self._rng))
        bad, reasons, counts = row_reasons(raw, parsed.failures, parsed.frame, cks, masks)
        if len(raw.malformed):
            counts["malformed row"] += len(raw.malformed)
        rep.rows_read, rep.quarantined = raw.rows_read, int(bad.sum()) + len(raw.malformed)
        rep.loaded = rep.rows_read - rep.quarantined
        rep.reasons = dict(counts)
        if rep.quarantined:
            q = quarantine_frame(raw, bad, reasons, self.run_id)
            qpath = self.settings.quarantine_dir / t.name / f"{rep.sha256[:16]}.parquet"
            write_atomic_parquet(q, qpath)
            rep.quarantine_file = str(qpath)
        good = to_standard(t, parsed.frame[~bad] if bad.any() else parsed.frame)
        good["_source_file"] = pd.Series(str(path), index=good.index, dtype="str")
        good["_source_line"] = raw.lines[~bad]
        good["_run_id"] = pd.Series(self.run_id, index=good.index, dtype="str")
        clock.lap("quarantine")
        return rep, good.reset_index(drop=True), pending

    def _settle(self, rep: FileReport, pending: Future) -> bool:
        """Wait for a file's GX cross-check; on disagreement refuse the file. True if it passed."""
        try:
            rep.gx = pending.result()
            rep.seconds["gx"] = rep.gx["seconds"]
            return True
        except ValidationDisagreement as exc:
            _refuse(rep, f"validation engines disagree, file not loaded (please report): {exc}")
        except BrokenProcessPool as exc:
            _refuse(rep, f"the Great Expectations worker stopped, file not loaded: {exc}")
        except Exception as exc:
            _refuse(rep, f"Great Expectations could not check the file, not loaded: "
                         f"{type(exc).__name__}: {exc}")
        return False

    def stage_table(
        self, table_name: str, paths: list[Path], encoding: str | None = None
    ) -> TableReport:
        """Lock a table, validate its files, merge their good rows and stage its next version.

        The lock is held until :meth:`publish` (or the end of the run); later tables' foreign
        keys are checked against the staged keys.
        """
        t = table(table_name)
        last = self._staged[-1].table.name if self._staged else None
        # Locks are taken in load order (no two runs wait in a circle) and a table's lock is
        # taken once (a second flock on it would wait for ever).
        if last == t.name:
            raise ValueError(
                f"{t.name} is staged already: stage each table once a run "
                "(group its files with plan())"
            )
        if last is not None and LOAD_ORDER.index(t.name) < LOAD_ORDER.index(last):
            raise ValueError(
                f"stage {t.name} before {last}: tables are staged in load order (plan())"
            )
        self._locks.enter_context(store.table_lock(t.name, self.settings))
        version = store.current_version(t.name, self.settings)
        manifest = store.read_manifest(version)
        seen: dict[str, str] = {}
        loads: list[tuple[FileReport, pd.DataFrame, Future]] = []
        for p in paths:
            rep, good, pending = self.validate_file(t, p, encoding, seen, manifest["loaded_files"])
            self.result.files.append(rep)
            if good is not None:
                loads.append((rep, good, pending))
        st = self._restage(_Staged(t, version, manifest, loads))
        self._staged.append(st)
        return st.report

    def _restage(self, st: _Staged) -> _Staged:
        """(Re)build a staged table from its loads; records the keys later tables may use."""
        if st.staging is not None:
            shutil.rmtree(st.staging, ignore_errors=True)
        if st.loads:
            st.staging, st.new_manifest, st.report = stage_version(
                st.table, st.version, st.manifest, st.loads, self.run_id, self.settings
            )
        else:
            st.staging = st.new_manifest = None
            st.report = TableReport(st.table.name, rows_after=int(st.manifest.get("rows", 0)),
                                    version=st.version.name if st.version else None)
        if key_columns(st.table):  # later tables' foreign keys point here
            key = key_columns(st.table)[0]
            at = store.read_version(st.table, st.staging or st.version, columns=[key])
            self._keys[st.table.name] = pd.Index(at.column(0).to_pandas()).unique()
        self.result.tables[st.table.name] = st.report
        return st

    def publish(self) -> None:
        """Publish every staged table in load order, each file only once GX has agreed with it.

        A table whose files GX refused is rebuilt without them; a file whose foreign keys were
        checked against such a table is refused too (load it again in a new run).
        """
        refused: set[str] = set()  # tables whose staged keys changed after later tables used them
        while self._staged:
            st = self._staged[0]
            stale = refused & set(referenced_tables(st.table))
            if stale:
                for rep, _, pending in st.loads:
                    pending.cancel()
                    _refuse(
                        rep,
                        "not loaded: its foreign keys were checked against "
                        f"{', '.join(sorted(stale))} "
                        "records that were then refused; load this file again",
                    )
            settled = [
                False if stale else self._settle(rep, pending) for rep, _, pending in st.loads
            ]
            if not all(settled):
                refused.add(st.table.name)
                st.loads = [x for x, ok in zip(st.loads, settled, strict=True) if ok]
                self._restage(st)
            if st.staging is not None:
                st.report.version = store.publish(st.table.name, st.staging, st.new_manifest,
                                                  self.settings).name
            self._staged.pop(0)
        self._locks.close()


def _refuse(rep: FileReport, fault: str) -> None:
    """A file validated but not loaded: a fault, its quarantine file removed, nothing counted."""
    rep.fault = fault
    if rep.quarantine_file:
        Path(rep.quarantine_file).unlink(missing_ok=True)
        rep.quarantine_file = None
    rep.loaded = rep.quarantined = 0


class _Clock:
    """Records the seconds of successive phases into a dict."""

    def __init__(self, into: dict[str, float]) -> None:
        self._into = into
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._into[name] = round(now - self._last, 3)
        self._last = now
