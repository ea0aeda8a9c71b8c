"""A contract as it is registered, checked against the data standard's columns.

One parser for every way a contract arrives to be checked (a file on the command line, a
request to the service), so both refuse the same input with the same one-line message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.standard.tables import CONTRACTS
from models.scoring import ScoringError

# a contract as registered: the standard's columns without its later status
CHECK_COLUMNS = [c for c in CONTRACTS.columns if not c.name.startswith("status")]


def parse_contracts(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Contracts in the standard's columns, typed; a one-line error names what is wrong."""
    if frame.empty:
        raise ScoringError(f"{name}: no contracts")
    needed = [c.name for c in CHECK_COLUMNS if not c.nullable]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ScoringError(f"{name}: missing contract columns {missing} "
                           "(see docs/data-standard.md)")
    out = frame[[c.name for c in CHECK_COLUMNS if c.name in frame.columns]].copy()
    for c in CHECK_COLUMNS:
        if c.name not in out:
            out[c.name] = None
            continue
        raw = out[c.name]
        if c.dtype == "date":
            out[c.name] = pd.to_datetime(raw, errors="coerce").dt.normalize()
        elif c.dtype == "float":
            out[c.name] = pd.to_numeric(raw, errors="coerce")
        else:
            out[c.name] = raw.astype("str").str.strip().where(raw.notna() & (raw != ""))
        bad = out[c.name].isna() & (not c.nullable)
        if c.dtype == "float":
            bad |= out[c.name] <= 0 if c.name == "amount_yuan" else out[c.name] < 0
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ScoringError(f"{name}: contract {row + 1}: {c.name} = {raw.iloc[row]!r} "
                               f"is not a valid {c.dtype}")
    return out
