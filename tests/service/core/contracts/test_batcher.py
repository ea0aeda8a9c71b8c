"""Micro-batching: concurrent callers share one run, each gets its own result, and a bad
item's exception reaches only its caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from service.core.contracts.batcher import MicroBatcher


def _double(runs: list[list[int]]) -> Callable[[Sequence[int]], list[int]]:
    def run(items: Sequence[int]) -> list[int]:
        runs.append(list(items))
        if any(i < 0 for i in items):
            raise ValueError(f"negative in {list(items)}")
        return [2 * i for i in items]

    return run


@pytest.mark.parametrize("wait_s", [0.0, 0.002])
def test_concurrent_callers_share_a_run_and_get_their_own_results(wait_s: float) -> None:
    runs: list[list[int]] = []
    batcher = MicroBatcher(_double(runs), max_size=64, wait_s=wait_s)

    async def many() -> list[int]:
        return await asyncio.gather(*(batcher.submit(i) for i in range(10)))

    assert asyncio.run(many()) == [2 * i for i in range(10)]
    assert runs == [list(range(10))] and batcher.batches == 1


def test_a_full_batch_runs_at_once() -> None:
    runs: list[list[int]] = []
    batcher = MicroBatcher(_double(runs), max_size=4, wait_s=10.0)

    async def many() -> list[int]:
        return await asyncio.wait_for(asyncio.gather(*(batcher.submit(i) for i in range(8))), 5)

    assert asyncio.run(many()) == [2 * i for i in range(8)]
    assert runs == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_an_exception_reaches_only_its_caller() -> None:
    runs: list[list[int]] = []
    batcher = MicroBatcher(_double(runs))

    async def mixed() -> list[int | BaseException]:
        return await asyncio.gather(*(batcher.submit(i) for i in (1, -1, 3)),
                                    return_exceptions=True)

    one, bad, three = asyncio.run(mixed())
    assert (one, three) == (2, 6)
    assert isinstance(bad, ValueError) and "negative in [-1]" in str(bad)
    assert runs == [[1, -1, 3], [1], [-1], [3]]  # the batch, then item by item


def test_a_lone_failing_item_raises_to_its_caller() -> None:
    batcher = MicroBatcher(_double([]))
    with pytest.raises(ValueError, match="negative"):
        asyncio.run(batcher.submit(-5))
