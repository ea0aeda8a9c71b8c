"""What an ingest run reports, per file and per table: the typed result that the command
line, the JSON and HTML reports and the Prefect flow all render, so that the numbers are
counted once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from features.ingest.held_back import CLASSES

CLASS_ORDER = [c.code for c in CLASSES]


@dataclass
class FileReport:
    path: str
    table: str | None = None
    encoding: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    loaded: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # rule id -> rows breaking it
    held_back: dict[str, int] = field(default_factory=dict)  # reason class -> rows (held_back.py)
    fault: str | None = None  # whole-file fault: nothing of the file was loaded
    skipped: str | None = None  # already loaded earlier: nothing to do
    extra_columns: list[str] = field(default_factory=list)
    missing_nullable: list[str] = field(default_factory=list)
    gx: dict | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # read, parse, masks, quarantine, gx


@dataclass
class TableReport:
    table: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    history_rows: int = 0
    rows_after: int = 0
    version: str | None = None
    files_loaded: int = 0  # files of this run merged into the table (not faulted or skipped)
    stage_seconds: float = 0.0  # merge and write of the new version
    replayed: int = 0  # quarantined rows loaded by this run once their references resolved
    replay_open: int = 0  # quarantined rows re-checked that still fail
    refused: int = 0  # versions refused as stale or irreversible (now in quarantine)
    superseded_in_run: int = 0  # versions of this run replaced by a later one of the same run


@dataclass
class IngestResult:
    run_id: str
    started: str
    finished: str = ""
    files: list[FileReport] = field(default_factory=list)
    tables: dict[str, TableReport] = field(default_factory=dict)
    report_json: str | None = None
    report_html: str | None = None
    publish_seconds: dict[str, float] = field(default_factory=dict)  # fsync, manifest
    ledger: str | None = None  # how the contract ledger's snapshot was obtained, or failed

    @property
    def ok(self) -> bool:
        """False when any file had a whole-file fault (the CLI then exits non-zero)."""
        return not any(f.fault for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def replayed(self) -> int:
        return sum(t.replayed for t in self.tables.values())

    def reasons(self) -> Counter:
        out: Counter = Counter()
        for f in self.files:
            out.update(f.reasons)
        return out

    def held_back(self) -> dict[str, int]:
        """Rows this run held back per reason class (each row once), in class order."""
        out: Counter = Counter()
        for f in self.files:
            out.update(f.held_back)
        return {code: out[code] for code in sorted(out, key=CLASS_ORDER.index)}
