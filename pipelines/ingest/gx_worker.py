"""Great Expectations in a process of its own, started before the ingest needs it.

Why a process and not a thread: the GX suite is pure Python (about 50,000 rows a second
here). In a thread it holds the GIL against the main thread's typing, merging and writing,
which cost a full-market ingest about a quarter of its time. In a process it runs on the
other core, and its 6-10 s import runs while the caller does other work: Prefect's start-up
(:func:`shared_worker`) or the staging of the first tables.

Why spawn and not fork: the parent runs Prefect's threads, and a forked child of a threaded
process can deadlock on a lock that one of them held.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Self

from features.ingest.validation import GXValidator, Sample

_validator: GXValidator | None = None  # the worker process's own, made by _start
_shared: GXWorker | None = None  # this process's worker, see shared_worker


def _start() -> None:
    global _validator
    _validator = GXValidator()


def _pid() -> int:
    return os.getpid()


def _validate(sample: Sample) -> dict:
    if _validator is None:
        raise RuntimeError("the worker's initializer did not make a validator")
    return _validator.validate(sample)


class GXWorker:
    """One worker process holding one GX context; samples are validated in submission order.

    Several runs (or threads) may share a worker. Once the process has died (killed, out of
    memory, GX failed to import), every pending and later :meth:`submit` gives a future that
    fails with ``BrokenProcessPool``, which a run reports as a fault of each file.
    """

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start
        )
        self.broken = False
        self._started: Future[int] = self._pool.submit(_pid)  # spawn now: the import starts at once

    @property
    def pid(self) -> int:
        """The worker's process id (waits until GX is imported)."""
        return self._started.result()

    def submit(self, sample: Sample) -> Future[dict]:
        """Validate a sample in the worker; the future raises ValidationDisagreement on a
        mismatch.
        """
        try:
            pending = self._pool.submit(_validate, sample)
        except BrokenProcessPool as exc:
            pending = Future()
            pending.set_exception(exc)
        pending.add_done_callback(self._note_death)
        return pending

    def _note_death(self, done: Future) -> None:
        if not done.cancelled() and isinstance(done.exception(), BrokenProcessPool):
            self.broken = True

    def close(self) -> None:
        """Stop the process; checks still queued are cancelled, not run."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class InlineGX:
    """Great Expectations in the calling process, for a process that has paid the GX import
    already and checks one file at a time (a long-lived service, the crash tests' forked
    runs). Same interface as :class:`GXWorker`; the future is done when ``submit`` returns.
    """

    def __init__(self, validator: GXValidator | None = None) -> None:
        self.validator = validator or GXValidator()
        self.broken = False

    def submit(self, sample: Sample) -> Future[dict]:
        done: Future[dict] = Future()
        try:
            done.set_result(self.validator.validate(sample))
        except Exception as exc:
            done.set_exception(exc)
        return done

    def close(self) -> None:
        """Nothing to stop: the validator lives as long as its owner."""


def shared_worker() -> GXWorker:
    """This process's worker, started on the first call (or again after it died).

    The CLI calls it before it imports Prefect, so GX imports (6-10 s) while Prefect imports
    and starts its temporary server (15-30 s here), and the ingest flow finds it ready. Its
    owner stops it with :func:`close_shared_worker`; otherwise it ends with the process.
    """
    global _shared
    if _shared is None or _shared.broken:
        _shared = GXWorker()
    return _shared


def close_shared_worker() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None
