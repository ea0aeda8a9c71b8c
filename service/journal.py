"""Group commit for what requests must record: check rows and audit entries.

Every score read, check, override and denial is audited before the response leaves, and an
audit append serialises on the chain's head. One transaction per request would cap the service
at the disk's commit rate; instead requests hand their rows to one writer thread, which
commits whatever has queued up in a single transaction (as databases group their own commits)
and then releases every waiting request. A request still waits for its own rows to be durable;
if a batch fails, its items are retried one by one so a bad item fails only its own request.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from service.db.audit import AuditRecord, append_many
from service.db.models import Base

log = logging.getLogger("techcredit.service")
MAX_BATCH = 512


@dataclass
class _Item:
    rows: Sequence[Base]
    audits: Sequence[AuditRecord]
    done: Future[None] = field(default_factory=Future)


class Journal:
    """One writer thread; :meth:`write` from the event loop, :meth:`close` at shutdown."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self.thread.start()

    async def write(self, rows: Sequence[Base] = (), audits: Sequence[AuditRecord] = ()) -> None:
        """Return once ``rows`` and ``audits`` are committed (raises what the commit raised)."""
        item = _Item(rows, audits)
        self.queue.put(item)
        await asyncio.wrap_future(item.done)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=30)

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
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Item]) -> None:
        try:
            self._write(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("journal write failed")
                batch[0].done.set_exception(RuntimeError("the audit log could not be written"))
                return
            for item in batch:  # find the bad one; the others still commit
                self._commit([item])
            return
        for item in batch:
            item.done.set_result(None)

    def _write(self, batch: list[_Item]) -> None:
        with self.sessions() as session, session.begin():
            for item in batch:
                session.add_all(item.rows)
            append_many(session, [record for item in batch for record in item.audits])
