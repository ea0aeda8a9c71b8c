"""One ingest run: read, type, validate and quarantine each file, stage each table, publish.

This is the whole ingest without Prefect (the flow in :mod:`pipelines.ingest.flow` wraps
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

import shutil
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import pandas as pd

from features.ingest.held_back import count_rows, rule_class
from features.ingest.outcome import FileReport, IngestResult, TableReport
from features.ingest.parsing import parse_frame, to_standard
from features.ingest.quarantine import (
    MALFORMED,
    RELEASED,
    empty_queue,
    queue_rows,
    refused_rows,
    row_reasons,
    upsert,
)
from features.ingest.readers import FileFault, read_export, table_for_path
from features.ingest.replay import apply_recheck, candidates, recheck
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
from pipelines.ingest.gx_worker import GXWorker, InlineGX
from pipelines.ingest.state import Clock, Load, Staged, file_sha256, new_run_id, utc
from pipelines.store import curated as store
from pipelines.store.quarantine import dataset, read_queue, stage_queue
from pipelines.store.table_version import stage_version


class IngestRun:
    """State of one run: settings, the GX worker (imported once), locks, staged tables and the
    keys staged so far. Call :meth:`stage_table` per table in load order, then :meth:`publish`.

    Use it as a context manager: on exit it releases the locks, removes what it staged but
    did not publish, and stops the worker if it made its own. A worker passed in (tests,
    benchmarks, a long-lived service) is left running for its owner.
    """

    def __init__(
        self,
        settings: Settings,
        today: date | None = None,
        run_id: str | None = None,
        worker: GXWorker | InlineGX | None = None,
        exported_at: datetime | None = None,
    ) -> None:
        self.settings = settings
        self.today = today or date.today()
        self.run_id = run_id or new_run_id()
        started = datetime.now(UTC)
        # Versions of equal record date are ordered by export time: the files' declared one,
        # else the time this run started (a later delivery is the later export).
        self.exported_at = utc(exported_at or started)
        self.result = IngestResult(self.run_id, started.isoformat(timespec="seconds"))
        self._own_worker = worker is None
        self.worker = worker or GXWorker()  # started now, so GX imports while files are read
        self._rng = np.random.default_rng(settings.seed)  # which accepted rows GX re-checks
        self._keys: dict[str, pd.Index] = {}
        self._staged: list[Staged] = []
        self._locks = ExitStack()

    def close(self) -> None:
        for st in self._staged:  # staged but not published: the run failed before publish()
            for load in st.loads:
                load.pending.cancel()  # a shared worker need not check files that will not load
            for d in st.dirs():
                shutil.rmtree(d, ignore_errors=True)
        self._staged = []
        self._locks.close()
        if self._own_worker:
            self.worker.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def plan(self, paths: list[Path], table_name: str | None = None,
             replay: bool = True) -> dict[str, list[Path]]:
        """Files grouped by table in load order; missing files and unknown tables are faults.

        With ``replay`` (the default) tables with open replayable quarantine rows are planned
        too, without files, so that every run re-checks what its loads may have resolved
        (without paths, only ``table_name``'s rows when it is given).
        """
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
        if replay:
            snap = store.snapshot(self.settings)
            replayed = [table_name] if table_name and not paths else LOAD_ORDER
            for name in replayed:
                if not candidates(table(name), read_queue(snap, name)).empty:
                    groups.setdefault(name, [])
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
                      loaded_files: dict) -> tuple[FileReport, Load | None]:
        """Read, type and validate one file; return its good rows, its queue rows and the
        pending GX cross-check (which must succeed before the rows are published)."""
        rep = FileReport(str(path), t.name)
        clock = Clock(rep.seconds)
        try:
            rep.sha256 = file_sha256(path)
            if rep.sha256 in loaded_files:
                rep.skipped = _already_loaded(loaded_files[rep.sha256])
                return rep, None
            if rep.sha256 in seen:
                rep.skipped = f"same content as {seen[rep.sha256]} in this run; nothing to do"
                return rep, None
            raw = read_export(path, t.name, encoding)
        except FileFault as fault:
            rep.fault = fault.problem
            return rep, None
        except OSError as exc:
            rep.fault = f"unreadable file: {exc.strerror or exc}"
            return rep, None
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
        rej = row_reasons(raw, parsed.failures, parsed.frame, cks, masks)
        bad = rej.bad
        counts = rej.counts
        if len(raw.malformed):
            counts[MALFORMED] += len(raw.malformed)
        rep.rows_read, rep.quarantined = raw.rows_read, int(bad.sum()) + len(raw.malformed)
        rep.loaded = rep.rows_read - rep.quarantined
        rep.reasons = dict(counts)
        rep.held_back = count_rows([*rej.rules, *[MALFORMED] * len(raw.malformed)])
        queued = queue_rows(raw, rej, rep.sha256, self.run_id, self.exported_at)
        good = to_standard(t, parsed.frame[~bad] if bad.any() else parsed.frame)
        good["_source_file"] = pd.Series(str(path), index=good.index, dtype="str")
        good["_source_line"] = raw.lines[~bad]
        good["_run_id"] = pd.Series(self.run_id, index=good.index, dtype="str")
        good["_exported_at"] = self.exported_at
        clock.lap("quarantine")
        return rep, Load(rep, good.reset_index(drop=True), pending, queued)

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
        """Lock a table, validate its files, re-check its quarantine, order and merge the
        incoming versions and stage its next version and queue.

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
        snap = store.snapshot(self.settings)  # this table cannot change while we hold its lock
        version = snap.version(t.name)
        manifest = store.read_table_manifest(version)
        seen: dict[str, str] = {}
        loads: list[Load] = []
        for p in paths:
            rep, load = self.validate_file(t, p, encoding, seen, manifest["loaded_files"])
            self.result.files.append(rep)
            if load is not None:
                loads.append(load)
        queue = read_queue(snap, t.name)
        replay = recheck(t, queue, self.today, self.known_keys(t), self.run_id)
        st = self._restage(Staged(t, version, manifest, queue, loads, replay))
        self._staged.append(st)
        store.crash_point(f"stage:{t.name}")
        return st.report

    def _restage(self, st: Staged) -> Staged:
        """(Re)build a staged table and its queue from the loads that are still in; records the
        keys later tables may use."""
        for d in st.dirs():
            shutil.rmtree(d, ignore_errors=True)
        st.staged = st.queue_staging = st.queue_manifest = None
        for load in st.loads:  # ordering decides afresh on every (re)build
            load.rep.loaded, load.rep.quarantined, load.rep.reasons, load.rep.held_back = (
                load.counts[0], load.counts[1], dict(load.counts[2]), dict(load.counts[3]))
        goods = [x.good for x in st.loads]
        if st.replay.released_ids:
            goods.append(st.replay.released)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        queue = upsert(
            apply_recheck(st.queue, st.replay, self.run_id, at),
            pd.concat([x.queued for x in st.loads], ignore_index=True)
            if st.loads
            else empty_queue(),
        )
        rows_before = int(st.manifest.get("rows", 0))
        st.report = TableReport(st.table.name, rows_after=rows_before,
                                version=st.version.name if st.version else None)
        refused = 0
        if goods:
            incoming = goods[0] if len(goods) == 1 else pd.concat(goods, ignore_index=True)
            unique = len(st.loads) == 1 and not st.replay.released_ids
            st.staged = stage_version(st.table, st.version, rows_before, incoming, self.run_id,
                                      self.settings, unique_incoming=unique,
                                      delivered=sum(len(x.good) for x in st.loads))
            queue, refused = self._quarantine_refused(st, incoming, queue)
            s = st.staged
            st.report = TableReport(
                st.table.name, s.inserted, s.updated, s.unchanged, s.history_rows, s.rows_after,
                None, len(st.loads), s.seconds, superseded_in_run=s.in_run,
            )
        released = int((queue["state"] == RELEASED).sum() - (st.queue["state"] == RELEASED).sum())
        st.report.replayed, st.report.refused = released, refused
        st.report.replay_open = int(st.replay.checked - len(st.replay.released_ids))
        if not queue.equals(st.queue):
            st.queue_staging, st.queue_manifest = stage_queue(st.table.name, queue, self.run_id,
                                                              self.settings)
        if key_columns(st.table):  # later tables' foreign keys point here
            key = key_columns(st.table)[0]
            src = st.staged.staging if st.staged else st.version
            at_keys = store.read_version(st.table, src, columns=[key])
            self._keys[st.table.name] = pd.Index(at_keys.column(0).to_pandas()).unique()
        self.result.tables[st.table.name] = st.report
        return st

    def _quarantine_refused(self, st: Staged, incoming: pd.DataFrame,
                            queue: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """Stale and irreversible versions go to the queue, and their files' counts say so."""
        refusals = st.staged.refused if st.staged else ()
        if not refusals:
            return queue, 0
        rows = incoming.iloc[[r.position for r in refusals]].reset_index(drop=True)
        # incoming is the loads' good rows in order, then the replayed ones: a position says
        # which file (or which queued row) a refused version came from
        ends = np.cumsum([len(x.good) for x in st.loads])
        queued_sha = st.queue.set_index("row_id")["source_sha256"]
        shas = []
        for r in refusals:
            i = int(np.searchsorted(ends, r.position, side="right"))
            if i == len(st.loads):  # a replayed row: counted as quarantined already
                replayed = r.position - (int(ends[-1]) if len(ends) else 0)
                shas.append(str(queued_sha[st.replay.released_ids[replayed]]))
                continue
            rep = st.loads[i].rep
            rep.loaded -= 1
            rep.quarantined += 1
            rep.reasons[r.rule] = rep.reasons.get(r.rule, 0) + 1
            kind = rule_class(r.rule).code
            rep.held_back[kind] = rep.held_back.get(kind, 0) + 1
            shas.append(str(rep.sha256))
        new = refused_rows(st.table, rows, shas, [r.rule for r in refusals],
                           [r.reason for r in refusals], self.run_id)
        return upsert(queue, new), len(refusals)

    def publish(self) -> None:
        """Publish every staged table together, each file only once GX has agreed with it.

        A table whose files GX refused is rebuilt without them; a file whose foreign keys were
        checked against such a table is refused too (load it again in a new run).
        """
        refused: set[str] = set()  # tables whose staged keys changed after later tables used them
        for st in self._staged:
            stale = refused & set(referenced_tables(st.table))
            if stale:
                for load in st.loads:
                    load.pending.cancel()
                    _refuse(
                        load.rep,
                        "not loaded: its foreign keys were checked against "
                        f"{', '.join(sorted(stale))} "
                        "records that were then refused; load this file again",
                    )
            settled = [False if stale else self._settle(x.rep, x.pending) for x in st.loads]
            if not all(settled):
                refused.add(st.table.name)
                st.loads = [x for x, ok in zip(st.loads, settled, strict=True) if ok]
                self._restage(st)
        staged: dict[str, tuple[Path, dict]] = {}
        for st in self._staged:
            if st.staged is not None:
                staged[st.table.name] = (st.staged.staging, self._table_manifest(st))
            if st.queue_staging is not None and st.queue_manifest is not None:
                staged[dataset(st.table.name)] = (st.queue_staging, st.queue_manifest)
        store.crash_point("publish:start")
        if staged:
            store.publish(self.run_id, staged, self.settings,
                          timings=self.result.publish_seconds)
            for st in self._staged:
                if st.staged is not None:
                    st.report.version = st.staged.staging.with_suffix("").name
        self._staged = []
        self._locks.close()

    def _table_manifest(self, st: Staged) -> dict:
        """The files the new version holds (by content hash) with their final counts."""
        loaded_files = dict(st.manifest["loaded_files"])
        for x in st.loads:
            r = x.rep
            loaded_files[r.sha256] = {"path": r.path, "run_id": self.run_id,
                                      "rows_read": r.rows_read, "loaded": r.loaded,
                                      "quarantined": r.quarantined}
        assert st.staged is not None
        return {"table": st.table.name, "version": self.run_id, "rows": st.staged.rows_after,
                "loaded_files": loaded_files}


def _already_loaded(prior: dict) -> str:
    """Why a file is skipped; if that run held rows of it back, where they are, since
    sending the same file again never brings them back."""
    run = prior["run_id"]
    text = f"same content already loaded (run {run}); nothing to do"
    held = int(prior.get("quarantined") or 0)
    if held:
        text += (f"; {held:,} of its rows were held back then / 当时有 {held:,} 行被隔离: "
                 f"techcredit quarantine list --run {run}")
    return text


def _refuse(rep: FileReport, fault: str) -> None:
    """A file validated but not loaded: a fault, nothing counted (nor queued)."""
    rep.fault = fault
    rep.loaded = rep.quarantined = 0
    rep.held_back = {}
