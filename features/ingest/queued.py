"""A queued row as a typed record: what ``techcredit quarantine`` prints and ``--json`` gives.

The queue is a frame on disk (:data:`features.ingest.quarantine.QUEUE_COLUMNS`); commands read
its rows through :class:`QueueRow`, never by string keys, so a renamed column breaks here, at
one place, and JSON carries real types (a line number, a time, a flag) rather than text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from features.ingest.held_back import row_class


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


@dataclass(frozen=True)
class QueueRow:
    row_id: str
    table: str
    source_file: str
    source_line: int
    exported_at: datetime | None
    run_id: str  # the run that held it back
    state: str  # open, released, rejected
    state_at: str | None
    state_by: str | None
    state_note: str | None
    loaded_run: str | None  # the run that released it
    rules: tuple[str, ...]  # the rule ids it breaks
    reason: str
    reason_class: str  # features.ingest.held_back code
    replayable: bool
    fields: dict[str, str | None]  # the row's standard fields as the export had them (text)
    raw_text: str | None  # a malformed line as it was

    @classmethod
    def from_record(cls, r: pd.Series) -> QueueRow:
        fields = json.loads(r["fields"]) if isinstance(r["fields"], str) else {}
        exported, rules = r["exported_at"], _text(r["rules"]) or ""
        return cls(
            str(r["row_id"]), str(r["table"]), str(r["source_file"]), int(r["source_line"]),
            None if pd.isna(exported) else pd.Timestamp(exported).to_pydatetime(),
            str(r["run_id"]), str(r["state"]), _text(r["state_at"]), _text(r["state_by"]),
            _text(r["state_note"]), _text(r["loaded_run"]),
            tuple(x for x in rules.split(";") if x), str(r["reason"]),
            row_class(rules).code, bool(r["replayable"]),
            fields, _text(r["raw_text"]),
        )


def typed_rows(frame: pd.DataFrame) -> list[QueueRow]:
    """Every row of a queue frame (``features.ingest.quarantine.conform_queue``'s columns)."""
    return [QueueRow.from_record(r) for _, r in frame.iterrows()]
