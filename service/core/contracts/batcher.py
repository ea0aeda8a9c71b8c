"""Micro-batching: concurrent callers' items handled by one call, each caller answered alone.

A LightGBM prediction (with its TreeSHAP reasons) of one row costs several times its share of
a prediction of eight: the call, the array checks and the thread set-up are per call. Contract
checks arrive one per request, so :class:`MicroBatcher` gathers the items submitted within
``wait_s`` (0: those of the same event-loop turn) or until ``max_size``, runs them as one
batch, and hands each caller its own result — or its own exception: ``run`` returns one
outcome per item, and a batch that fails as a whole is retried item by item, so one bad item
fails only its caller. Event loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
Outcome = R | BaseException


class MicroBatcher(Generic[T, R]):
    def __init__(self, run: Callable[[Sequence[T]], Sequence[R]], max_size: int = 64,
                 wait_s: float = 0.0) -> None:
        self.run = run
        self.max_size = max_size
        self.wait_s = wait_s
        self.items: list[T] = []
        self.futures: list[asyncio.Future[R]] = []
        self.timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self.batches = 0  # how many runs (the mean batch is submissions / batches)

    async def submit(self, item: T) -> R:
        """Queue ``item`` and return its result once its batch ran (raises its exception)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self.items.append(item)
        self.futures.append(future)
        if len(self.items) >= self.max_size:
            self.flush()
        elif self.timer is None:
            self.timer = (loop.call_later(self.wait_s, self.flush) if self.wait_s > 0
                          else loop.call_soon(self.flush))
        return await future

    def flush(self) -> None:
        """Run what is queued now (also called by the timer)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        items, futures = self.items, self.futures
        self.items, self.futures = [], []
        if not items:
            return
        self.batches += 1
        for future, outcome in zip(futures, self._outcomes(items), strict=True):
            if future.done():  # the caller went away
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _outcomes(self, items: list[T]) -> Sequence[Outcome[R]]:
        try:
            return self.run(items)
        except Exception as e:
            if len(items) == 1:
                return [e]
        outcomes: list[Outcome[R]] = []
        for item in items:  # find the bad one; the others still get their results
            try:
                outcomes.append(self.run([item])[0])
            except Exception as e:
                outcomes.append(e)
        return outcomes
