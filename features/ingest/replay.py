"""Re-checking quarantined rows: the ones whose only fault was a reference to a record that
had not arrived are loaded once it has; the rest keep an updated reason.

Pure: the caller gives the queue, the load date and the keys that references may point at
(the store plus what its run has staged), and loads what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from features.ingest.parsing import parse_frame, to_standard
from features.ingest.quarantine import OPEN, fields_frame, replayable, row_reasons
from features.ingest.readers import RawFile
from features.ingest.validation import checks, run_masks
from features.standard.schema import Table


@dataclass(frozen=True)
class Recheck:
    """What a replay decided for the open replayable rows of one table."""

    released: pd.DataFrame  # typed rows to merge, with the lineage of their source line
    released_ids: list[str]
    still_open: pd.DataFrame  # row_id, rules, reason, replayable of rows that still fail

    @property
    def checked(self) -> int:
        return len(self.released_ids) + len(self.still_open)


def candidates(t: Table, queue: pd.DataFrame) -> pd.DataFrame:
    """Open rows of ``t`` whose only failures were references."""
    mask = (queue["table"] == t.name) & (queue["state"] == OPEN) & queue["replayable"]
    return queue[mask.to_numpy(dtype=bool)].reset_index(drop=True)


def recheck(t: Table, queue: pd.DataFrame, today: date, known_keys: dict[str, pd.Index],
            run_id: str) -> Recheck:
    """Run every check of the standard again on the queued rows' original fields."""
    cand = candidates(t, queue)
    if cand.empty:
        return Recheck(pd.DataFrame(), [], cand[["row_id", "rules", "reason", "replayable"]])
    frame = fields_frame(t, cand)
    raw = RawFile(Path("quarantine"), t, frame, cand["source_line"].to_numpy(), "utf-8", {})
    parsed = parse_frame(t, frame, strip=True)
    cks = checks(t, today, known_keys)
    rej = row_reasons(raw, parsed.failures, parsed.frame, cks, run_masks(parsed.frame, cks))
    ok = ~rej.bad
    good = to_standard(t, parsed.frame[ok]).reset_index(drop=True)
    src = cand[ok].reset_index(drop=True)
    good["_source_file"] = src["source_file"].astype("str")
    good["_source_line"] = src["source_line"].to_numpy(dtype=np.int64)
    good["_run_id"] = pd.Series(run_id, index=good.index, dtype="str")
    good["_exported_at"] = src["exported_at"]
    still = pd.DataFrame(
        {
            "row_id": cand.loc[rej.bad, "row_id"].to_numpy(),
            "rules": rej.rules,
            "reason": rej.reasons,
            "replayable": [replayable(r) for r in rej.rules],
        }
    )
    return Recheck(good, src["row_id"].tolist(), still)


def apply_recheck(queue: pd.DataFrame, result: Recheck, run_id: str, at: str) -> pd.DataFrame:
    """The queue after a replay: released rows marked, still-failing rows' reasons updated."""
    out = queue.copy()
    hit = out["row_id"].isin(result.released_ids).to_numpy()
    out.loc[hit, ["state", "state_at", "state_by", "state_note", "loaded_run"]] = [
        "released", at, "replay", "references now resolve", run_id
    ]
    if len(result.still_open):
        upd = result.still_open.set_index("row_id")
        rows = out["row_id"].isin(upd.index).to_numpy()
        ids = out.loc[rows, "row_id"]
        out.loc[rows, "rules"] = upd.loc[ids, "rules"].to_numpy()
        out.loc[rows, "reason"] = upd.loc[ids, "reason"].to_numpy()
        out.loc[rows, "replayable"] = upd.loc[ids, "replayable"].to_numpy()
    return out
