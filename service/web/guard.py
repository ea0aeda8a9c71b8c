"""Failed authentication, limited and summarised.

Tokens have 256 bits of entropy, so guessing is hopeless; what a flood of bad tokens does hurt
is the service (a database lookup each) and the audit log (one fsync'd row each). So each
source address and each token prefix may fail ``limit`` times a minute, each failure audited
as it happens; past that, attempts are answered 429 with ``Retry-After`` before any lookup,
and counted, and :meth:`AuthGuard.drain` turns the counts into one audit entry per source and
minute. A token already known good (in the token cache) is never held back, so a person behind
the same address as the flood keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from service.core.db.audit import AuditRecord

WINDOW_S = 60.0
MAX_KEYS = 100_000  # beyond this many tracked sources the oldest windows are forgotten


@dataclass
class _Window:
    start: float
    failures: int = 0


@dataclass
class _Tally:
    """Attempts held back from one source in one minute."""

    count: int = 0
    paths: set[str] = field(default_factory=set)


class AuthGuard:
    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.windows: dict[str, _Window] = {}
        self.held: dict[tuple[str, str], _Tally] = {}  # (source, minute) → attempts

    @staticmethod
    def keys(source: str | None, token: str | None) -> tuple[str, ...]:
        """What a failure counts against: the address, and the token's prefix (not secret)
        when the token is shaped like ours, so a guesser spreading over addresses is held
        back too."""
        out = [f"addr:{source or '?'}"]
        if token and token.count("_") >= 2:
            out.append(f"prefix:{token.split('_', 2)[1][:16]}")
        return tuple(out)

    def _window(self, key: str, now: float) -> _Window:
        w = self.windows.get(key)
        if w is None or now - w.start >= WINDOW_S:
            if len(self.windows) >= MAX_KEYS:
                self.windows = {k: v for k, v in self.windows.items()
                                if now - v.start < WINDOW_S}
            w = self.windows[key] = _Window(now)
        return w

    def retry_after(self, keys: tuple[str, ...]) -> int | None:
        """Seconds until ``keys`` may fail again; None: not held back."""
        now = self.clock()
        waits = [WINDOW_S - (now - w.start) for k in keys
                 if (w := self._window(k, now)).failures >= self.limit]
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, keys: tuple[str, ...]) -> None:
        now = self.clock()
        for k in keys:
            self._window(k, now).failures += 1

    def hold(self, source: str | None, path: str) -> None:
        """Count an attempt answered 429, for the minute's summary."""
        minute = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        tally = self.held.setdefault((source or "?", minute), _Tally())
        tally.count += 1
        if len(tally.paths) < 10:
            tally.paths.add(path)

    def drain(self, everything: bool = False) -> list[AuditRecord]:
        """One audit entry per source and past minute (``everything``: the current one too,
        at shutdown) with the number of attempts held back."""
        current = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        done = [k for k in self.held if everything or k[1] != current]
        out = []
        for source, minute in done:
            tally = self.held.pop((source, minute))
            out.append(AuditRecord(
                actor="anonymous", action="authenticate", outcome="throttled",
                source=None if source == "?" else source,
                detail={"minute": minute, "count": tally.count, "paths": sorted(tally.paths),
                        "reason": "too many failed authentications / 认证失败次数过多"}))
        return out
