"""Point-in-time feature tables: ``build_features(tables, as_of)`` and the training panel.

Institution and broker rows describe each entity present at ``as_of`` from records known on
or before that day. Contract rows are the contracts registered in the month ending at
``as_of`` (or since ``contracts_from``), each described as of its own registration (see
:mod:`features.point_in_time.contract`), so month-end tables tile the contract history without
overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Month:
    """One month of the panel: entities as of ``as_of``, and the contracts registered from
    ``contracts_from`` through ``as_of`` (so the months of a panel tile the contract history)."""

    as_of: pd.Timestamp
    contracts_from: pd.Timestamp


def panel_months(as_ofs: Iterable[str | pd.Timestamp]) -> list[Month]:
    """The months of a panel, in date order: the first takes the contracts of its calendar
    month, each later one those registered after the previous as-of date."""
    dates = sorted(pd.Timestamp(a).normalize() for a in as_ofs)
    starts = [month_start(dates[0])] + [t + pd.Timedelta(days=1) for t in dates[:-1]]
    return [Month(t, s) for t, s in zip(dates, starts, strict=True)]


def build_month(h: History, month: Month) -> dict[str, pd.DataFrame]:
    """One month of the panel on its own: the unit a distributed build gives each worker.

    Its rows equal :func:`build_panel`'s for that month (contract features are taken at
    registration), but each month reads the contract history before it again (the network
    features replay it), so the months cost more in total than the panel's single pass.
    """
    return build_features(h, month.as_of, month.contracts_from)


def stack(months: Iterable[Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Month tables of each kind, one under the other in the order given."""
    parts = list(months)
    return {k: pd.concat([m[k] for m in parts], ignore_index=True) for k in KINDS}


def build_panel(tables: Mapping[str, pd.DataFrame] | History, as_ofs: Iterable[str | pd.Timestamp]
                ) -> dict[str, pd.DataFrame]:
    """Feature tables for several as-of dates, stacked (the training panel).

    Contract features do not depend on the as-of date (they are taken at registration), so
    they are computed in one pass over the whole span and cut per month as
    :func:`panel_months` says: the same rows as stacking :func:`build_month` of each month.
    """
    h = prepare(tables)
    months = panel_months(as_ofs)
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in KINDS}
    for m in months:
        day = day_of(m.as_of)
        flags = market_flags(h, day)
        for kind in ("institution", "broker"):
            frame = entity_features(h, kind, day, flags)
            frame.insert(1, "as_of", m.as_of.to_datetime64().astype("datetime64[s]"))
            parts[kind].append(frame)
    rows = _contract_rows(h, day_of(months[0].contracts_from), day_of(months[-1].as_of))
    contracts = contract_features(h, rows)
    reg = h.contracts["reg"].to_numpy()[rows]
    for m in months:
        frame = contracts[(reg >= day_of(m.contracts_from)) & (reg <= day_of(m.as_of))]
        frame = frame.reset_index(drop=True)
        frame.insert(2, "as_of", m.as_of.to_datetime64().astype("datetime64[s]"))
        parts["contract"].append(frame)
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
