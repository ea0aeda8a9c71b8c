"""The contract ledger's state for one store version: loaded, advanced or built, and said which.

:func:`obtain` is the one policy for every process that needs the state (the ingest after it
publishes, the service at start and after each new version, ``techcredit score
--contract``): the version's own snapshot when it is usable; else the newest earlier
snapshot advanced by what the version adds; else a build from the tables. What it built or
advanced it saves for the next process. The answer says how it was obtained and, when it
was not loaded, why (``/readyz`` shows it; a rebuild is also logged as a warning).

The store is reached through :class:`Pinned`, which the command line implements on the
curated store (the service never imports the pipelines that write it) and which reads
tables, snapshot and mark of one published version however the store moves meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from service.core.contracts.advance import Ledger, advance, build
from service.core.contracts.snapshot import LedgerSnapshot

log = logging.getLogger("techcredit.service")


class Pinned(Protocol):
    """One published version of the store."""

    @property
    def version(self) -> str:
        """Its name, e.g. ``store 12 (20261207T220109-aa8df0)``."""
        ...

    def tables(self) -> Mapping[str, pd.DataFrame]:
        """Its standard tables (read once, then kept)."""
        ...

    def snapshot(self) -> LedgerSnapshot | str:
        """Its ledger snapshot, or why there is none usable."""
        ...

    def earlier(self) -> Ledger | str:
        """The newest earlier version's snapshot and mark, or why there is none."""
        ...

    def save(self, ledger: Ledger) -> None:
        """Keep ``ledger`` as this version's snapshot and mark."""
        ...


@dataclass(frozen=True)
class Obtained:
    snapshot: LedgerSnapshot
    how: str  # "loaded the snapshot of …", "advanced …", "rebuilt: <why>"
    seconds: float


def obtain(pinned: Pinned, rule_days: int, keep_days: int) -> Obtained:
    """The state of ``pinned``'s version for rules counting ``rule_days`` back (a built one
    keeps ``max(rule_days, keep_days)`` days of features). See the module docstring."""
    t0 = time.perf_counter()
    loaded = pinned.snapshot()
    why = loaded if isinstance(loaded, str) else loaded.unusable(pinned.version, rule_days)
    if why is None:
        assert isinstance(loaded, LedgerSnapshot)
        return Obtained(loaded, f"loaded the snapshot of {pinned.version}",
                        time.perf_counter() - t0)
    earlier = pinned.earlier()
    if isinstance(earlier, Ledger) and earlier.snapshot.recent_days >= rule_days:
        base = earlier.snapshot.version
        ahead = advance(earlier, pinned.tables(), pinned.version)
        if isinstance(ahead, Ledger):
            _keep(pinned, ahead)
            return Obtained(ahead.snapshot, f"advanced the snapshot of {base} to "
                            f"{pinned.version} by {ahead.applied} ({why})",
                            time.perf_counter() - t0)
        why = f"{why}; the snapshot of {base} cannot be advanced: {ahead}"
    elif isinstance(earlier, Ledger):
        why = f"{why}; the snapshot of {earlier.snapshot.version} keeps too few days"
    else:
        why = f"{why}; {earlier}"
    ledger = build(pinned.tables(), pinned.version, max(rule_days, keep_days))
    _keep(pinned, ledger)
    log.warning("contract ledger of %s rebuilt from the tables: %s", pinned.version, why)
    return Obtained(ledger.snapshot, f"rebuilt: {why}", time.perf_counter() - t0)


def _keep(pinned: Pinned, ledger: Ledger) -> None:
    """Save for the next process; a store this process may not write is no reason to fail."""
    try:
        pinned.save(ledger)
    except OSError:
        log.exception("saving the contract ledger's snapshot of %s failed", pinned.version)


class Unversioned:
    """Tables with no store behind them (a market folder, a test's frames): no snapshot to
    load or keep, so the state is always built."""

    version = "the tables"

    def __init__(self, load: Callable[[], Mapping[str, pd.DataFrame]]) -> None:
        self.load = load
        self._tables: Mapping[str, pd.DataFrame] | None = None

    def tables(self) -> Mapping[str, pd.DataFrame]:
        if self._tables is None:
            self._tables = self.load()
        return self._tables

    def snapshot(self) -> LedgerSnapshot | str:
        return "no store"

    def earlier(self) -> Ledger | str:
        return "no snapshot kept"

    def save(self, ledger: Ledger) -> None:
        return None
