"""Entity attributes as they were on a date: each version of an institution or broker record
holds from the day it became true until the next version.

Exports restate a broker's training hours, certification and affiliation, or an
institution's level and status, as of the export. Read from the latest export alone, every
past feature row would see today's value: a leak. The store keeps every version that was
current (history); here they become validity intervals. The first known version holds from
the record's event date (founding, certification); a later one from its own record date
when that moved forward (a status date), else from the day of the export that brought it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXPORTED_AT = "_exported_at"


def _days(values: pd.Series) -> np.ndarray:
    d = pd.to_datetime(values, utc=True).dt.tz_localize(None) if isinstance(
        values.dtype, pd.DatetimeTZDtype) else pd.to_datetime(values)
    out = d.to_numpy().astype("datetime64[D]")
    res = out.astype(np.int64)
    res[np.isnat(out)] = np.iinfo(np.int64).min
    return res


def attribute_versions(
    current: pd.DataFrame,
    history: pd.DataFrame | None,
    key: str,
    event_date: str,
    version_date: str | None,
    columns: list[str],
) -> pd.DataFrame:
    """Every version of every record with ``valid_from`` (day number), ``key`` and
    ``columns``, in (key, valid_from) order. Without history (or lineage) each record has one
    version, valid from its event date."""
    frames = [current] if history is None or history.empty else [history, current]
    v = pd.concat([f[[c for c in {key, event_date, version_date, EXPORTED_AT, *columns}
                      if c is not None and c in f]] for f in frames], ignore_index=True)
    v = v.drop_duplicates().reset_index(drop=True)
    never = np.iinfo(np.int64).min
    record = _days(v[version_date]) if version_date in v else np.full(len(v), never)
    event = _days(v[event_date])
    et = _days(v[EXPORTED_AT]) if EXPORTED_AT in v else np.zeros(len(v), np.int64)
    v = v.assign(_ev=event, _rt=np.where(record == never, event, record), _et=et)
    v = v.sort_values([key, "_rt", "_et"], kind="stable")
    rt = v["_rt"].to_numpy()
    first = ~v[key].duplicated().to_numpy()
    moved = np.r_[False, rt[1:] > rt[:-1]]  # the record's own date moved forward
    v["valid_from"] = np.where(first, v["_ev"], np.where(moved, rt, v["_et"]))
    # a version that never held (superseded the same day it began) still orders correctly
    v = v.sort_values([key, "valid_from", "_rt", "_et"], kind="stable")
    return v[[key, "valid_from", *columns]].reset_index(drop=True)


def as_of(versions: pd.DataFrame, ids: pd.Index, key: str, day: int,
          columns: list[str]) -> pd.DataFrame:
    """One row per id in ``ids`` order: the version valid at ``day``; before the first known
    version, that first version (the earliest we know)."""
    held = versions[versions["valid_from"] <= day]
    latest = held.drop_duplicates(key, keep="last").set_index(key)
    earliest = versions.drop_duplicates(key, keep="first").set_index(key)
    out = earliest.reindex(ids)[columns]
    if len(latest):
        hit = ids.isin(latest.index)
        out.loc[hit, columns] = latest.reindex(ids[hit])[columns].to_numpy()
    return out.reset_index(drop=True)
