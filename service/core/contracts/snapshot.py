"""The contract ledger's state as a file: what the real-time check replays the register to
build (minutes at full scale), kept with the store version it was built from and loaded in
seconds.

Two files per store version. The snapshot (:class:`LedgerSnapshot`) is what a check needs:
the online state, the ids it holds and the features of the last ``recent_days`` days'
contracts, from which any rule set whose windows fit is warmed in well under a second, so the
rules (approved independently of the store) are not part of it. The mark
(:class:`RegisterMark`) says what the state has counted (each contract's row and bad-status
day, each conduct record), read only to advance the snapshot to the next version
(:mod:`service.core.contracts.advance`). Both are pickles (protocol 5) written to a temporary
name, flushed and renamed: a reader sees the whole file or none.

A snapshot records its format and a digest of the code that builds and reads the state; a
file of another format or code is not used (the state's classes may have changed shape).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from features.point_in_time.online import OnlineState

FORMAT = 1
# the modules whose objects the snapshot holds or whose code decides what it holds
STATE_CODE = ("features.point_in_time.online", "features.point_in_time.contract_graph",
              "features.point_in_time.flow_walk", "features.point_in_time.flow_index",
              "features.point_in_time.flow_cycles", "features.point_in_time.flow_patterns",
              "features.point_in_time.contract",
              "features.point_in_time.catalogue", "features.point_in_time.history",
              "service.core.contracts.snapshot", "service.core.contracts.advance")


@cache
def code_version() -> str:
    """A digest of :data:`STATE_CODE`'s sources: a change to any of them retires the files."""
    digest = hashlib.sha256()
    for name in STATE_CODE:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class LedgerSnapshot:
    """The contract ledger's state at the end of day ``as_of`` of one store version."""

    version: str  # the store version it was built from, as the store names it
    as_of: int  # day number
    state: OnlineState
    known: set[str]  # contract ids in the state
    recent: pd.DataFrame  # RECENT_COLUMNS and the features of the last recent_days' contracts
    recent_days: int

    def unusable(self, version: str, rule_days: int) -> str | None:
        """Why this snapshot cannot serve ``version`` under rules of ``rule_days``, or None."""
        if self.version != version:
            return f"the snapshot is of {self.version}"
        if rule_days > self.recent_days:
            return (f"the rules count {rule_days} days back, the snapshot keeps "
                    f"{self.recent_days}")
        return None


@dataclass
class RegisterMark:
    """What a snapshot's state has counted, so a later version's additions can be told apart
    from restatements (which the state cannot undo)."""

    contracts: pd.DataFrame  # contract_id, reg, row (hash of the registration), bad_day
    conduct: pd.DataFrame  # record_id, row (hash), counted (the state counts it)
    institutions: list[str]  # in code order
    brokers: list[str]


def save(path: Path, obj: LedgerSnapshot | RegisterMark) -> None:
    """Pickle ``obj`` after a header naming the format and code, atomically: temporary file,
    fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump((FORMAT, code_version()), fh, protocol=5)
        pickle.dump(obj, fh, protocol=5)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(path: Path) -> LedgerSnapshot | RegisterMark | str:
    """The object saved at ``path``, or why not: no file, or another format or code (read from
    the header, before the classes it holds are touched). Only files this service's own
    store holds are read: a pickle runs code when loaded."""
    if not path.is_file():
        return "no snapshot"
    with open(path, "rb") as fh:
        header = pickle.load(fh)
        if header != (FORMAT, code_version()):
            return "the snapshot was written by other code"
        return pickle.load(fh)
