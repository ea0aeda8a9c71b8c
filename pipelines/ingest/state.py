"""What an ingest run keeps per file and per staged table until it publishes, and the small
helpers it times and names itself with; apart from :mod:`pipelines.ingest.run` so that the
run reads as the sequence it is.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from features.ingest.outcome import FileReport, TableReport
from features.ingest.replay import Recheck
from features.standard.schema import Table
from pipelines.store.table_version import StagedVersion


def utc(moment: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """A moment as a UTC timestamp; a naive one is taken to be UTC already."""
    ts = pd.Timestamp(moment)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class Load:
    """One validated file of a staged table: its good rows, the pending GX check, its new
    queue rows and the counts validation gave it (ordering may move rows to quarantine)."""

    rep: FileReport
    good: pd.DataFrame
    pending: Future
    queued: pd.DataFrame
    counts: tuple[int, int, dict[str, int], dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = (self.rep.loaded, self.rep.quarantined, dict(self.rep.reasons),
                       dict(self.rep.held_back))


@dataclass
class Staged:
    """A table this run has staged and will publish once GX agreed with its files."""

    table: Table
    version: Path | None  # the current version it was staged from
    manifest: dict
    queue: pd.DataFrame  # the table's quarantine queue before this run
    loads: list[Load]
    replay: Recheck
    # What _restage builds from the above:
    staged: StagedVersion | None = field(default=None, init=False)  # None: nothing to merge
    queue_staging: Path | None = field(default=None, init=False)
    queue_manifest: dict | None = field(default=None, init=False)
    report: TableReport = field(init=False)

    def dirs(self) -> list[Path]:
        return [d for d in (self.staged and self.staged.staging, self.queue_staging) if d]


class Clock:
    """Records the seconds of successive phases into a dict."""

    def __init__(self, into: dict[str, float]) -> None:
        self._into = into
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._into[name] = round(now - self._last, 3)
        self._last = now
