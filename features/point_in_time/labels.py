"""Labels that look only after the as-of date.

Credit label ``y_12m`` of an (entity, as_of): a conduct record of that subject is confirmed
in ``(as_of, as_of + 12 months]``. Contract label ``y_false_found``: the contract's status
becomes ``false_found`` in ``(registered_date, as_of + 12 months]``, the irregularity an
audit makes observable; with the synthetic market's truth file, ``is_irregular`` and
``pattern`` are added for evaluation. ``label_complete`` says whether the 12 months after
as_of are fully covered by the data, so that training can drop censored rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import LABEL_MONTHS
from features.point_in_time.entity import present
from features.point_in_time.history import History, codes_in, day_of, prepare


def positions(haystack: pd.Series, needles: pd.Series) -> np.ndarray:
    """Row of each needle in ``haystack`` (-1 when absent).

    Hashes the few needles and streams the millions of haystack ids past them, which is an
    order of magnitude faster than indexing the haystack.
    """
    inverse, uniq = pd.factorize(needles.astype("str"))
    hit = codes_in(haystack, list(uniq))
    rows = np.flatnonzero(hit >= 0)
    where = np.full(len(uniq), -1, dtype=np.int64)
    where[hit[rows][::-1]] = rows[::-1]  # first occurrence wins
    return where[inverse]


def horizon(as_of: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize() + pd.DateOffset(months=LABEL_MONTHS)


def entity_labels(tables: Mapping[str, pd.DataFrame] | History, entity: str,
                  as_of: str | pd.Timestamp, data_end: str | pd.Timestamp | None = None
                  ) -> pd.DataFrame:
    """``entity_id, as_of, y_12m, label_complete`` for entities present at as_of.

    ``data_end`` is the last day the data covers (default: the latest date in the tables).
    """
    h = prepare(tables)
    ts = pd.Timestamp(as_of).normalize()
    lo, hi = day_of(ts), day_of(horizon(ts))
    end = h.last_day if data_end is None else day_of(data_end)
    cr = h.conduct
    hit = cr[(cr["kind"] == entity) & (cr["confirmed"] > lo) & (cr["confirmed"] <= hi)
             & (cr["subject"] >= 0)]
    rows = present(h, entity, lo)
    ids = (h.institution_ids if entity == "institution" else h.broker_ids).to_numpy()[rows]
    return pd.DataFrame({
        "entity_id": ids,
        "as_of": np.full(len(rows), ts.to_datetime64().astype("datetime64[s]")),
        "y_12m": np.isin(rows, hit["subject"].to_numpy()),
        "label_complete": np.full(len(rows), hi <= end),
    })


def contract_labels(tables: Mapping[str, pd.DataFrame] | History, contract_ids: pd.Series,
                    as_of: str | pd.Timestamp | pd.Series, truth: pd.DataFrame | None = None,
                    data_end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """``contract_id, y_false_found, label_complete`` (+ ``is_irregular, pattern, event_id``
    from truth).

    ``as_of`` is one date or one date per contract (a panel's ``as_of`` column).
    """
    h = prepare(tables)
    ids = pd.Series(contract_ids).astype("str").reset_index(drop=True)
    if isinstance(as_of, pd.Series):
        dates = pd.Series(pd.to_datetime(as_of).dt.normalize().to_numpy())
    else:
        dates = pd.Series(pd.Timestamp(as_of).normalize(), index=ids.index)
    horizons = {d: day_of(horizon(d)) for d in dates.unique()}
    hi = dates.map(horizons).to_numpy(np.int64)
    end = h.last_day if data_end is None else day_of(data_end)
    c = h.contracts
    idx = positions(c["contract_id"], ids)
    if (idx < 0).any():
        raise KeyError(f"{int((idx < 0).sum())} contract ids are not in the contracts table")
    out = pd.DataFrame({
        "contract_id": c["contract_id"].take(idx).to_numpy(),
        "y_false_found": c["false_day"].to_numpy()[idx] <= hi,
        "label_complete": hi <= end,
    })
    if truth is not None:
        at = positions(truth["contract_id"], ids)
        found = at >= 0
        out["is_irregular"] = np.where(
            found, truth["is_irregular"].to_numpy(bool)[np.maximum(at, 0)], False
        )
        out["pattern"] = np.where(
            found, truth["pattern"].astype("str").to_numpy()[np.maximum(at, 0)], ""
        )
        if "event_id" in truth:  # the planted scheme, for recall intervals resampling schemes
            out["event_id"] = np.where(
                found, truth["event_id"].to_numpy(np.int64)[np.maximum(at, 0)], -1)
    return out


def panel_labels(tables: Mapping[str, pd.DataFrame] | History, panel: Mapping[str, pd.DataFrame],
                 truth: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Labels for every row of a panel from :func:`features.point_in_time.build.build_panel`,
    same keys.
    """
    h = prepare(tables)
    out: dict[str, pd.DataFrame] = {}
    for kind in ("institution", "broker"):
        dates = pd.to_datetime(panel[kind]["as_of"]).unique()
        out[kind] = pd.concat([entity_labels(h, kind, d) for d in dates], ignore_index=True)
    rows = panel["contract"]
    lab = contract_labels(h, rows["contract_id"], rows["as_of"], truth)
    lab.insert(1, "as_of", rows["as_of"].to_numpy())
    out["contract"] = lab
    return out
