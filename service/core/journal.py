"""Group commit for what requests must record: check rows and audit entries.

Every score read, check, override and denial is audited before the response leaves, and an
audit append serialises on the chain's head. One transaction per request would cap the service
at the disk's commit rate; instead requests hand their rows to one writer thread, which
commits whatever has queued up in a single transaction (as databases group their own commits)
and then releases every waiting request.

Rows of protected tables get their content hashes chained in the same transaction
(:mod:`service.core.db.row_audit`: one ``max(id)`` before and one ``SELECT`` of the new rows
after each table's insert, not a query per row), and a committed batch may be due for a signed
checkpoint outside the database (:func:`service.core.db.checkpoints.note`). A request still
waits for its own rows to be durable; if a batch fails, its items are retried one by one so a
bad item fails only its own request.

The writer shares the event loop's core and GIL, so its cost per entry is the service's cost:
hot rows come as :class:`Insert` (column values, no ORM unit of work), each table's rows and
the audit entries (linked in memory after one head read, :func:`service.core.db.audit.link`) go to
the driver in one ``executemany`` (:mod:`service.core.db.raw_insert`), and a committed batch
wakes its requests with one call into each event loop rather than one callback per request.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table
from sqlalchemy.orm import Session, sessionmaker

from service.core.db import checkpoints
from service.core.db.audit import AuditRecord, link, lock_head_raw
from service.core.db.audit_keys import load_ring
from service.core.db.raw_insert import RawInsert, RawWriter
from service.core.db.row_audit import PROTECTED, RawRecorder, append_raw
from service.core.db.tables import AuditEntry, Base

log = logging.getLogger("techcredit.service")
MAX_BATCH = 512
AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]
FAILED = "the audit log could not be written"


@dataclass(frozen=True)
class Insert:
    """A row as column values for a Core insert: what the per-request routes write, without
    an ORM object's construction and flush."""

    table: Table
    values: Mapping[str, Any]


Row = Base | Insert


@dataclass
class _Item:
    rows: Sequence[Row]
    audits: Sequence[AuditRecord]
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None] = field(init=False)

    def __post_init__(self) -> None:
        self.done = self.loop.create_future()


class Journal:
    """One writer thread; :meth:`write` from an event loop, :meth:`close` at shutdown."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.raw: dict[tuple[Table, tuple[str, ...]], RawInsert] = {}  # by table and columns
        self.recorders: dict[Table, RawRecorder] = {}
        self.writer = RawWriter(self.engine)  # used by the writer thread only
        self.queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self.thread.start()

    async def write(self, rows: Sequence[Row] = (), audits: Sequence[AuditRecord] = ()) -> None:
        """Return once ``rows`` and ``audits`` are committed (raises what the commit raised)."""
        item = _Item(rows, audits, asyncio.get_running_loop())
        self.queue.put(item)
        await item.done

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)
        self.writer.close()

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            outcomes: list[tuple[_Item, bool]] = []
            self._commit(batch, outcomes)
            _release(outcomes)
            if stop:
                return

    def _commit(self, batch: list[_Item], outcomes: list[tuple[_Item, bool]]) -> None:
        try:
            self._write(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("journal write failed")
                outcomes.append((batch[0], False))
                return
            for item in batch:  # find the bad one; the others still commit
                self._commit([item], outcomes)
            return
        outcomes.extend((item, True) for item in batch)

    def _write(self, batch: list[_Item]) -> None:
        inserts: dict[Table, list[Mapping[str, Any]]] = defaultdict(list)
        objects: list[Base] = []
        for item in batch:
            for row in item.rows:
                if isinstance(row, Insert):
                    inserts[row.table].append(row.values)
                else:
                    objects.append(row)
        audits = [record for item in batch for record in item.audits]
        if objects:  # ORM rows (overrides): a session flushes them first (and hashes them)
            with self.sessions() as session, session.begin():
                session.add_all(objects)
                session.flush()
                dbapi: Any = session.connection().connection.dbapi_connection
                cursor = dbapi.cursor()
                try:
                    heads = self._insert(cursor, inserts, audits)
                finally:
                    cursor.close()
        else:
            with self.writer.begin() as cursor:  # the hot path: the DBAPI alone
                heads = self._insert(cursor, inserts, audits)
        for chain, head in heads:
            checkpoints.note(chain, head)

    def _insert(self, cursor: Any, inserts: Mapping[Table, list[Mapping[str, Any]]],
                audits: Sequence[AuditRecord]
                ) -> list[tuple[checkpoints.Chain, tuple[int, str]]]:
        """Write the rows, their row hashes and the audit entries; the chains' new heads."""
        ring = load_ring()
        changes: list[tuple[str, str, str | None]] = []
        for table, values in inserts.items():
            recorder = self._recorder(table)
            before = recorder.before(cursor) if recorder else 0
            by_columns: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
            for row in values:
                by_columns[tuple(row)].append(row)
            for columns, rows in by_columns.items():
                self._raw(table, columns).run(cursor, rows)
            if recorder:
                changes += recorder.after(cursor, before)
        heads: list[tuple[checkpoints.Chain, tuple[int, str]]] = []
        rows_head = append_raw(cursor, self.engine.dialect, changes, ring)
        if rows_head:
            heads.append(("rows", rows_head))
        if audits:
            rows = link(lock_head_raw(cursor, self.engine.dialect.name), audits, ring=ring)
            self._raw(AUDIT, tuple(rows[0])).run(cursor, rows)
            heads.append(("audit", (rows[-1]["id"], rows[-1]["hash"])))
        return heads

    def _recorder(self, table: Table) -> RawRecorder | None:
        if table.name not in PROTECTED:
            return None
        recorder = self.recorders.get(table)
        if recorder is None:
            recorder = self.recorders[table] = RawRecorder(table, self.engine.dialect)
        return recorder

    def _raw(self, table: Table, columns: tuple[str, ...]) -> RawInsert:
        raw = self.raw.get((table, columns))
        if raw is None:
            raw = self.raw[(table, columns)] = RawInsert(table, self.engine.dialect, columns)
        return raw


def _release(outcomes: list[tuple[_Item, bool]]) -> None:
    """Wake the waiting requests: one thread-safe call per event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Item, bool]]] = defaultdict(list)
    for item, ok in outcomes:
        by_loop[item.loop].append((item, ok))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # that loop is closed: nobody waits any more
            log.warning("journal: %d committed items had no loop to answer", len(items))


def _settle(items: list[tuple[_Item, bool]]) -> None:
    for item, ok in items:
        if item.done.done():  # the request was cancelled (client gone); its rows stand
            continue
        if ok:
            item.done.set_result(None)
        else:
            item.done.set_exception(RuntimeError(FAILED))
