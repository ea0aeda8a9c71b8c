"""Point-in-time feature tables: ``build_features(tables, as_of)`` and the training panel.

Institution and broker rows describe each entity present at ``as_of`` from records known on
or before that day. Contract rows are the contracts registered in the month ending at
``as_of`` (or since ``contracts_from``), each described as of its own registration (see
:mod:`features.point_in_time.contract`), so month-end tables tile the contract history without
overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from features.point_in_time.contract import contract_features
from features.point_in_time.entity import entity_features, market_flags
from features.point_in_time.history import History, day_of, prepare

KINDS = ("institution", "broker", "contract")


def _contract_rows(h: History, start: int, end: int) -> np.ndarray:
    reg = h.contracts["reg"].to_numpy()
    return np.arange(
        np.searchsorted(reg, start, side="left"), np.searchsorted(reg, end, side="right")
    )


def month_start(as_of: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize().replace(day=1)


def build_features(tables: Mapping[str, pd.DataFrame] | History, as_of: str | pd.Timestamp,
                   contracts_from: str | pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
    """Feature tables ``{"institution", "broker", "contract"}`` for one as-of date.

    ``tables`` are the five standard tables (any date dtype) or an already prepared
    :class:`~features.point_in_time.history.History` (prepare once when building several dates).
    Rows are
    keyed ``(entity_id, as_of)`` for institutions and brokers and ``contract_id`` for contracts.
    """
    h = prepare(tables)
    ts = pd.Timestamp(as_of).normalize()
    day = day_of(ts)
    start = day_of(contracts_from if contracts_from is not None else month_start(ts))
    flags = market_flags(h, day)
    out = {kind: entity_features(h, kind, day, flags) for kind in ("institution", "broker")}
    out["contract"] = contract_features(h, _contract_rows(h, start, day))
    for frame in out.values():
        frame.insert(
            1 if "entity_id" in frame else 2, "as_of", ts.to_datetime64().astype("datetime64[s]")
        )
    return out


def month_ends(first: str | pd.Timestamp, last: str | pd.Timestamp) -> list[pd.Timestamp]:
    """Month-end dates from ``first``'s month to ``last``'s month, inclusive."""
    return list(pd.date_range(pd.Timestamp(first), pd.Timestamp(last) + pd.offsets.MonthEnd(0),
                              freq="ME"))


def build_panel(tables: Mapping[str, pd.DataFrame] | History, as_ofs: Iterable[str | pd.Timestamp]
                ) -> dict[str, pd.DataFrame]:
    """Feature tables for several as-of dates, stacked (the training panel).

    Contract features do not depend on the as-of date (they are taken at registration), so
    they are computed in one pass over the whole span and cut per month: contracts registered
    after the previous as-of date up to this one go with this one.
    """
    h = prepare(tables)
    dates = sorted(pd.Timestamp(a).normalize() for a in as_ofs)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in KINDS}
    for ts in dates:
        day = day_of(ts)
        flags = market_flags(h, day)
        for kind in ("institution", "broker"):
            frame = entity_features(h, kind, day, flags)
            frame.insert(1, "as_of", ts.to_datetime64().astype("datetime64[s]"))
            parts[kind].append(frame)
    starts = [day_of(month_start(dates[0]))] + [day_of(t) + 1 for t in dates[:-1]]
    ends = [day_of(t) for t in dates]
    rows = _contract_rows(h, starts[0], ends[-1])
    contracts = contract_features(h, rows)
    reg = h.contracts["reg"].to_numpy()[rows]
    for ts, lo, hi in zip(dates, starts, ends, strict=True):
        frame = contracts[(reg >= lo) & (reg <= hi)].reset_index(drop=True)
        frame.insert(2, "as_of", ts.to_datetime64().astype("datetime64[s]"))
        parts["contract"].append(frame)
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
