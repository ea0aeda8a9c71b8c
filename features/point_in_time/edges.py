"""One party's flows in one direction: the latest per counterparty, also ordered by amount.

A national register has parties with thousands of counterparties. Cycle search and relays only
ever want flows of a similar amount to the contract being checked, so the flows are kept in
amount order too: a band is found by bisection and walked outward from the contract's amount,
instead of scanning every counterparty of a hub on every check.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterator

Flow = tuple[int, int, float]  # (counterparty, day, amount)


class Edges:
    """Latest (day, amount) per counterparty, and (amount, counterparty) in sorted order."""

    __slots__ = ("latest", "by_amount")

    def __init__(self) -> None:
        self.latest: dict[int, tuple[int, float]] = {}
        self.by_amount: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self.latest)

    def get(self, q: int, since: int) -> tuple[int, float] | None:
        """The latest flow with ``q`` if it lies in the window (after day ``since``)."""
        e = self.latest.get(q)
        return e if e is not None and e[0] > since else None

    def put(self, q: int, day: int, amount: float) -> None:
        old = self.latest.get(q)
        if old is not None:
            del self.by_amount[bisect_left(self.by_amount, (old[1], q))]
        self.latest[q] = (day, amount)
        insort(self.by_amount, (amount, q))

    def prune(self, since: int) -> None:
        """Drop flows that left the window: registration days only grow, so they never return."""
        stale = [q for q, (d, _) in self.latest.items() if d <= since]
        if stale:
            for q in stale:
                del self.latest[q]
            self.by_amount = sorted((a, q) for q, (_, a) in self.latest.items())

    def fresh(self, since: int) -> Iterator[int]:
        """Counterparties with a flow in the window."""
        return (q for q, (d, _) in self.latest.items() if d > since)

    def within(self, lo: float, hi: float, since: int) -> Iterator[Flow]:
        """Flows of the window with an amount in [lo, hi], in amount order."""
        by = self.by_amount
        i = bisect_left(by, (lo, -1))
        while i < len(by) and by[i][0] <= hi:
            a, q = by[i]
            d = self.latest[q][0]
            if d > since:
                yield q, d, a
            i += 1

    def nearest(self, amount: float, lo: float, hi: float, since: int, k: int) -> list[Flow]:
        """Up to ``k`` flows of the window in [lo, hi], closest to ``amount`` on a log scale.

        Walks outward from ``amount``, the smaller amount first on equal distance; the walk's
        order depends only on the flows of the window, so batch and real time choose alike.
        """
        by, la = self.by_amount, math.log(amount)
        right = bisect_left(by, (amount, -1))
        left = right - 1
        out: list[Flow] = []
        while len(out) < k:
            go_left = left >= 0 and by[left][0] >= lo
            go_right = right < len(by) and by[right][0] <= hi
            if not (go_left or go_right):
                break
            if go_left and (not go_right
                            or la - math.log(by[left][0]) <= math.log(by[right][0]) - la):
                a, q = by[left]
                left -= 1
            else:
                a, q = by[right]
                right += 1
            d = self.latest[q][0]
            if d > since:
                out.append((q, d, a))
        return out
