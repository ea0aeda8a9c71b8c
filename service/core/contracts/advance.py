"""Building the contract ledger's state, and advancing a snapshot to a later store version.

Both follow the register the way the real-time check does. :func:`build` starts an
:class:`~features.point_in_time.online.OnlineState` ``recent_days`` before the tables' last
day, then registers that window's contracts one by one and feeds its status changes and
conduct records: the features each contract had at its registration are the snapshot's
recent log (what warms the rules), and one replay of the flow network serves both (the
ledger used to replay twice: once for the state, once to warm the rules).

:func:`advance` takes the previous version's snapshot and mark and applies what the new
version adds: contracts registered after the snapshot's as-of day (or on it, after the last
id it holds, as the batch order puts them), contracts that turned bad, conduct records that
now count, institutions and brokers appended. The state cannot take anything back, so
anything else (a late registration, a restated or removed contract or record, a status
that is no longer bad) is refused with the reason, and the caller builds instead. The result
equals a build at the new version (a test proves it, feature by feature).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import names_of
from features.point_in_time.history import BAD_STATUSES, NEVER, History, days, prepare
from features.point_in_time.online import OnlineState
from features.standard.tables import table
from models.scoring import records
from service.core.contracts.snapshot import LedgerSnapshot, RegisterMark

# what the rules read besides the features: the day and the parties a window counts per
RECENT_COLUMNS = ("contract_id", "registered_date", "seller_id", "buyer_id", "broker_id",
                  "institution_id")
FEATURES = names_of("contract")
# a contract's registration as the state counted it: every column but its status
ROW_COLUMNS = [c for c in table("contracts").column_names if c not in ("status", "status_date")]


@dataclass
class Ledger:
    """A snapshot with its mark, and what advancing it applied ("" for a build)."""

    snapshot: LedgerSnapshot
    mark: RegisterMark
    applied: str = ""


@dataclass(frozen=True)
class Events:
    """Status changes and conduct records for the state to count from their day on."""

    bad: Sequence[tuple[str, int]]  # seller id, day the contract turned bad
    conduct: Sequence[tuple[str, str, int]]  # subject kind, subject id, day confirmed


def build(tables: Mapping[str, pd.DataFrame], version: str, recent_days: int) -> Ledger:
    """The state at the tables' last day, with the last ``recent_days`` days' features."""
    h = prepare(tables)
    as_of = h.last_day
    start = as_of - recent_days
    state = OnlineState(h, start)
    c = h.contracts
    lo = int(np.searchsorted(c["reg"].to_numpy(), start, side="right"))
    bad = (c["bad_day"] > start) & (c["bad_day"] <= as_of)
    sellers = h.party_ids[c["seller"].to_numpy()[bad.to_numpy()]]
    cr, raw = h.conduct, tables["conduct_records"]
    counted = ((cr["subject"] >= 0) & (cr["confirmed"] > start) & (cr["confirmed"] <= as_of)
               ).to_numpy()
    events = Events(list(zip(sellers, c["bad_day"][bad].tolist(), strict=True)),
                    _conduct(raw[counted], cr["confirmed"].to_numpy()[counted]))
    recent = follow(state, _in_order(tables["contracts"], c["contract_id"].iloc[lo:]), events,
                    as_of)
    snapshot = LedgerSnapshot(version, as_of, state, set(c["contract_id"]), recent, recent_days)
    return Ledger(snapshot, mark_of(tables, h))


def follow(state: OnlineState, contracts: list[dict[str, Any]], events: Events, as_of: int
           ) -> pd.DataFrame:
    """Register ``contracts`` (in registration order) and count ``events``, as the register
    saw them up to the end of ``as_of``; the contracts' features at registration, with
    :data:`RECENT_COLUMNS`."""
    for seller, day in events.bad:
        state.observe_status(seller, BAD_STATUSES[0], day)
    for kind, subject, day in events.conduct:
        state.observe_conduct(kind, subject, day)
    rows = []
    for record in contracts:
        features = state.features(record)
        state.register(record, features)
        rows.append({**{k: record[k] for k in RECENT_COLUMNS}, **features})
    state.settle(as_of)
    return pd.DataFrame(rows, columns=[*RECENT_COLUMNS, *FEATURES])


def mark_of(tables: Mapping[str, pd.DataFrame], h: History) -> RegisterMark:
    c = tables["contracts"]
    ids = c["contract_id"].astype("str")
    bad = pd.Series(h.contracts["bad_day"].to_numpy(), index=h.contracts["contract_id"])
    contracts = pd.DataFrame({
        "contract_id": ids.to_numpy(), "seller_id": c["seller_id"].astype("str").to_numpy(),
        "reg": days(c["registered_date"]),
        "row": pd.util.hash_pandas_object(c[ROW_COLUMNS], index=False).to_numpy(),
        "bad_day": bad.reindex(ids.to_numpy()).to_numpy()})
    cr = tables["conduct_records"]
    conduct = pd.DataFrame({
        "record_id": cr["record_id"].astype("str").to_numpy(),
        "row": pd.util.hash_pandas_object(cr, index=False).to_numpy(),
        "counted": (h.conduct["subject"] >= 0).to_numpy()})
    return RegisterMark(contracts, conduct, list(h.institution_ids), list(h.broker_ids))


def advance(previous: Ledger, tables: Mapping[str, pd.DataFrame], version: str
            ) -> Ledger | str:
    """``previous`` advanced to the version of ``tables``, or why it cannot be (see the
    module docstring). ``previous``'s state is changed: load it for this call only."""
    h = prepare(tables)
    old, snap = previous.mark, previous.snapshot
    new = mark_of(tables, h)
    as_of = h.last_day
    if as_of < snap.as_of:
        return f"the new version ends before the snapshot's day {_date(snap.as_of)}"
    for kind, before, after in (("institutions", old.institutions, new.institutions),
                                ("brokers", old.brokers, new.brokers)):
        if after[:len(before)] != before:
            return f"{kind} were removed or reordered"
    m = old.contracts.merge(new.contracts, on="contract_id", how="outer", indicator=True,
                            suffixes=("_old", ""))
    both, added = m[m["_merge"] == "both"], m[m["_merge"] == "right_only"]
    if (m["_merge"] == "left_only").any():
        return f"{int((m['_merge'] == 'left_only').sum()):,} contracts left the register"
    if (both["row_old"] != both["row"]).any():
        return f"{int((both['row_old'] != both['row']).sum()):,} contracts were restated"
    changed = both[both["bad_day_old"] != both["bad_day"]]
    if (changed["bad_day_old"] != NEVER).any():
        return "a contract's bad status was withdrawn or redated"
    on_day = old.contracts["contract_id"][old.contracts["reg"] == snap.as_of]
    last = str(on_day.max()) if len(on_day) else ""
    late = (added["reg"] < snap.as_of) | ((added["reg"] == snap.as_of)
                                          & (added["contract_id"] <= last))
    if late.any():
        return (f"{int(late.sum()):,} late registrations (registered before the snapshot's "
                f"day {_date(snap.as_of)}, e.g. {added['contract_id'][late].iloc[0]})")
    k = old.conduct.merge(new.conduct, on="record_id", how="outer", indicator=True,
                          suffixes=("_old", ""))
    kept = k[k["_merge"] == "both"]
    if (k["_merge"] == "left_only").any() or (kept["row_old"] != kept["row"]).any():
        return "conduct records were removed or restated"
    counts = k["counted"].astype(bool) & ~(k["counted_old"].astype("boolean").fillna(False))
    fresh = new.conduct["record_id"].isin(k["record_id"][counts]).to_numpy()
    turned = pd.concat([changed, added[added["bad_day"] != NEVER]])
    events = Events(list(zip(turned["seller_id"], turned["bad_day"].tolist(), strict=True)),
                    _conduct(tables["conduct_records"][fresh],
                             h.conduct["confirmed"].to_numpy()[fresh]))
    state = snap.state
    state.know(new.institutions[len(old.institutions):], new.brokers[len(old.brokers):])
    order = added.sort_values(["reg", "contract_id"], kind="stable")["contract_id"]
    recent = follow(state, _in_order(tables["contracts"], order), events, as_of)
    log = pd.concat([snap.recent, recent], ignore_index=True) if len(snap.recent) else recent
    log = log[days(log["registered_date"]) > as_of - snap.recent_days].reset_index(drop=True)
    snap.known.update(order)
    ahead = LedgerSnapshot(version, as_of, state, snap.known, log, snap.recent_days)
    return Ledger(ahead, new, f"{len(order):,} contracts, {len(turned):,} status changes, "
                              f"{int(fresh.sum()):,} conduct records")


def _in_order(contracts: pd.DataFrame, ids: pd.Series) -> list[dict[str, Any]]:
    """The rows of ``ids`` (in that order) as the state takes them."""
    if not len(ids):
        return []
    indexed = contracts.set_index(contracts["contract_id"].astype("str"), drop=False)
    return records(indexed.loc[list(ids)])


def _conduct(rows: pd.DataFrame, confirmed: np.ndarray) -> list[tuple[str, str, int]]:
    return list(zip(rows["subject_kind"].astype("str"), rows["subject_id"].astype("str"),
                    confirmed.tolist(), strict=True))


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))
