"""Contract features for one new contract at registration, from a compact in-memory state.

The real-time check cannot rerun the batch pass for every registration, so
:class:`OnlineState` keeps the running totals the batch path computes cumulatively: per
party counts and last dates, per pair counts (a sorted array plus a small dict of later
additions), conduct and bad-status counts, each broker's registration days of the last
year, and peer-group sums of log amounts. Built from the history up to ``as_of``, it then
follows the register: :meth:`register` each new contract after checking it, and feed status
changes and conduct records with :meth:`observe_status` / :meth:`observe_conduct`; like the
batch path, an event dated day d counts only for contracts registered after day d.
A test proves ``features`` equals the batch
:func:`features.point_in_time.contract.contract_features`.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import MIN_PEERS, OWN_SHRINK, ROUND_UNIT_YUAN
from features.point_in_time.contract import (
    BROKER_BASE_DAYS,
    BROKER_RECENT_DAYS,
    LOG_CENTER,
    STD_FLOOR,
    Groups,
    first_rows,
    kind_group,
    peer_group,
    size_band,
)
from features.point_in_time.contract_graph import (
    NETWORK_COLUMNS,
    FlowGraph,
    as_row,
    replay,
    replay_start,
)
from features.point_in_time.history import (
    BAD_STATUSES,
    FIELD_CODES,
    KIND_CODES,
    REGION_CODES,
    TYPE_CODES,
    History,
    day_of,
    prepare,
)
from features.standard.thresholds import JUST_ABOVE, SUBSIDY_THRESHOLDS_YUAN

PAIR_SPAN = 2**32
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _day(value: Any) -> int:
    """Day number of a date given as a string, date, Timestamp or numpy datetime (a Timestamp
    or date by its ordinal: :func:`day_of`'s answer at a twentieth of its cost, three times a
    check)."""
    if isinstance(value, date):  # also datetime and pd.Timestamp: their calendar date
        return value.toordinal() - EPOCH_ORDINAL
    return int(np.datetime64(value, "D").astype(np.int64))


def _band(prior: int) -> int:
    return 0 if prior < 1 else 1 if prior < 10 else 2 if prior < 100 else 3


class OnlineState:
    """Running totals of the register as of a day; see the module docstring."""

    def __init__(self, h: History, as_of: int) -> None:
        c = h.contracts
        hi = int(np.searchsorted(c["reg"].to_numpy(), as_of, side="right"))
        p = c.iloc[:hi]
        s, b, d = (p[k].to_numpy() for k in ("seller", "buyer", "reg"))
        n = len(h.party_ids)
        self.as_of = as_of
        self.party = {pid: i for i, pid in enumerate(h.party_ids)}
        self.institution = {v: i for i, v in enumerate(h.institution_ids)}
        self.broker = {v: i for i, v in enumerate(h.broker_ids)}
        self.seller_n = np.bincount(s, minlength=n).astype(np.int64)
        self.buyer_n = np.bincount(b, minlength=n).astype(np.int64)
        self.seller_last = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.seller_last, s, d)
        bad = c["bad_day"].to_numpy() <= as_of
        self.seller_bad = np.bincount(c["seller"].to_numpy()[bad], minlength=n).astype(np.int64)
        cr = h.conduct[(h.conduct["confirmed"] <= as_of) & (h.conduct["subject"] >= 0)]
        sizes = {"party": n, "institution": len(h.institution_ids), "broker": len(h.broker_ids)}
        self.conduct = {
            kind: np.bincount(cr["subject"].to_numpy()[(cr["kind"] == kind).to_numpy()],
                              minlength=size).astype(np.int64)
            for kind, size in sizes.items()
        }
        keys, counts = np.unique(s * PAIR_SPAN + b, return_counts=True)
        self.pair_keys, self.pair_counts = keys, counts
        self.pair_added: dict[int, int] = defaultdict(int)
        last = d == as_of
        self.day = as_of
        self.day_pairs: dict[int, int] = defaultdict(int)
        for k in (s[last] * PAIR_SPAN + b[last]).tolist():
            self.day_pairs[k] += 1
        recent = (d > as_of - BROKER_BASE_DAYS) & (p["broker"].to_numpy() >= 0)
        self.broker_days: dict[int, list[int]] = defaultdict(list)
        for br, day in zip(
            p["broker"].to_numpy()[recent].tolist(), d[recent].tolist(), strict=True
        ):
            self.broker_days[br].append(day)
        # peer sums: the same sequential cumulative sums as the batch pass, last value per group
        x = np.log(p["amount"].to_numpy()) - LOG_CENTER
        prior = Groups(s).earlier(np.arange(hi))
        fine = peer_group(p["ctype"].to_numpy(), p["field"].to_numpy(),
                          p["seller_region"].to_numpy(), size_band(prior))
        self.fine = Groups(fine).totals(fine, x)
        self.coarse = Groups(p["ctype"].to_numpy()).totals(p["ctype"].to_numpy(), x)
        kinds = kind_group(p["ctype"].to_numpy(), p["seller_kind"].to_numpy())
        self.by_kind = Groups(kinds).totals(kinds, x)
        own = Groups(s).totals(s, x)
        self.own_sum = np.zeros(n)
        self.own_sum[list(own)] = [v[1] for v in own.values()]
        first = first_rows(s, b, n)
        self.first_day = np.where(first < hi, d[np.minimum(first, max(hi - 1, 0))], -1)
        self.office = {v: i for i, v in enumerate(h.office_ids)}
        self.flows = FlowGraph()
        replay(self.flows, c, replay_start(c["reg"].to_numpy(), as_of), hi)
        self.pending: list[tuple[int, int, str, int]] = []  # heap of (day, seq, kind, code)

    @classmethod
    def build(cls, tables: Mapping[str, pd.DataFrame] | History, as_of: str | pd.Timestamp
              ) -> OnlineState:
        """The state at the end of day ``as_of``, for contracts registered after it."""
        return cls(prepare(tables), day_of(as_of))

    # --- following the register ----------------------------------------------------------

    def _party(self, pid: str) -> int:
        code = self.party.get(pid)
        if code is None:
            code = self.party[pid] = len(self.party)
            if code >= len(self.seller_n):
                grow = max(1024, len(self.seller_n))
                for name in ("seller_n", "buyer_n", "seller_bad"):
                    grown = np.concatenate([getattr(self, name), np.zeros(grow, np.int64)])
                    setattr(self, name, grown)
                self.own_sum = np.concatenate([self.own_sum, np.zeros(grow)])
                for name in ("seller_last", "first_day"):
                    grown = np.concatenate([getattr(self, name), np.full(grow, -1, np.int64)])
                    setattr(self, name, grown)
                self.conduct["party"] = np.concatenate(
                    [self.conduct["party"], np.zeros(grow, np.int64)]
                )
        return code

    def observe_status(self, seller_id: str, status: str, status_date: Any) -> None:
        """A contract of ``seller_id`` changed status; bad statuses count from the next day."""
        if status in BAD_STATUSES:
            self._defer(_day(status_date), "bad", self._party(str(seller_id)))

    def observe_conduct(self, subject_kind: str, subject_id: str, confirmed_date: Any) -> None:
        """A conduct record was confirmed; it counts from the next day."""
        if subject_kind == "party":
            code: int | None = self._party(str(subject_id))
        else:
            code = (self.institution if subject_kind == "institution" else self.broker).get(
                str(subject_id))
        if code is not None:
            self._defer(_day(confirmed_date), subject_kind, code)

    def know(self, institutions: list[str], brokers: list[str]) -> None:
        """Institutions and brokers a later version of the tables added: coded after the
        known ones (as that version's own build codes them when they are appended)."""
        for kind, codes, ids in (("institution", self.institution, institutions),
                                 ("broker", self.broker, brokers)):
            new = [i for i in ids if i not in codes]
            codes.update({v: len(codes) + j for j, v in enumerate(new)})
            grow = len(codes) - len(self.conduct[kind])
            if grow > 0:
                self.conduct[kind] = np.concatenate([self.conduct[kind], np.zeros(grow, np.int64)])

    def settle(self, as_of: int) -> None:
        """Put in force the events dated up to ``as_of``, as a state built at ``as_of`` counts
        them: a state advanced to a new as-of then equals one built there."""
        self._put_in_force(as_of)
        self.as_of = as_of

    def _defer(self, day: int, kind: str, code: int) -> None:
        heapq.heappush(self.pending, (day, len(self.pending), kind, code))

    def _put_in_force(self, through: int) -> None:
        """Count the pending events dated up to ``through``."""
        while self.pending and self.pending[0][0] <= through:
            _, _, kind, code = heapq.heappop(self.pending)
            if kind == "bad":
                self.seller_bad[code] += 1
            else:
                self.conduct[kind][code] += 1

    def _catch_up(self, day: int) -> None:
        """Put in force the events dated before ``day``."""
        self._put_in_force(day - 1)
        if day != self.day:
            self.day, self.day_pairs = day, defaultdict(int)

    def _pair(self, key: int) -> int:
        i = int(np.searchsorted(self.pair_keys, key))
        found = i < len(self.pair_keys) and self.pair_keys[i] == key
        base = int(self.pair_counts[i]) if found else 0
        return base + self.pair_added.get(key, 0)

    def _codes(self, contract: Mapping[str, Any]) -> _Codes:
        inst = contract.get("institution_id")
        brk = contract.get("broker_id")
        office = contract.get("office_id")
        ctype = TYPE_CODES.get(contract["contract_type"], -1)
        office_code = -1
        if isinstance(office, str):
            office_code = self.office.setdefault(office, len(self.office))
        return _Codes(
            self._party(str(contract["seller_id"])), self._party(str(contract["buyer_id"])),
            self.institution.get(str(inst), -1) if isinstance(inst, str) else -1,
            self.broker.get(str(brk), -1) if isinstance(brk, str) else -1,
            office_code, ctype,
            peer_group(ctype, FIELD_CODES.get(contract["tech_field"], -1),
                       REGION_CODES.get(contract["seller_region"], -1), 0),
            kind_group(ctype, KIND_CODES.get(contract["seller_kind"], -1)),
            _same_region(contract))

    def _network(self, k: _Codes, d: int, amount: float, register: bool) -> tuple[float, ...]:
        args = (k.seller, k.buyer, d, amount, k.same_region, k.institution, k.broker, k.office)
        return as_row(self.flows.step(*args) if register else self.flows.check(*args))

    def features(self, contract: Mapping[str, Any]) -> dict[str, float]:
        """Catalogue contract features of a contract about to be registered (it is not added)."""
        d = _day(contract["registered_date"])
        self._catch_up(d)
        k = self._codes(contract)
        s, b, inst, brk = k.seller, k.buyer, k.institution, k.broker
        amount = float(contract["amount_yuan"])
        prior = int(self.seller_n[s])
        nan = math.nan
        x = float(np.log(amount)) - LOG_CENTER
        empty = [0, 0.0, 0.0]
        coarse = self.coarse.get(k.ctype, empty)
        z, mean, std = _peer(x, self.fine.get(k.peer + _band(prior), empty), coarse)
        own = nan
        if not math.isnan(z):
            own = (x - (float(self.own_sum[s]) + OWN_SHRINK * mean) / (prior + OWN_SHRINK)) / std
        kind_z = _peer(x, self.by_kind.get(k.kind, empty), coarse)[0]
        if brk >= 0:
            days = self.broker_days.get(brk, ())
            old = bisect.bisect_right(days, d - BROKER_RECENT_DAYS) if days else 0
            older = bisect.bisect_right(days, d - BROKER_BASE_DAYS) if days else 0
            recent, base = float(len(days) - old), float(old - older)
            spike = (recent + 1) / (
                base * BROKER_RECENT_DAYS / (BROKER_BASE_DAYS - BROKER_RECENT_DAYS) + 1
            )
        else:
            recent = spike = nan
        just = any(t <= amount <= t * (1 + JUST_ABOVE) for t in SUBSIDY_THRESHOLDS_YUAN)
        seller_first = self.first_day[s] < 0
        return {
            "ctr_log_amount": float(np.log(amount)),
            "ctr_peer_z": z,
            "ctr_just_above_threshold": float(just),
            "ctr_round_amount": float(amount % ROUND_UNIT_YUAN == 0),
            "ctr_tech_share": float(contract["tech_amount_yuan"]) / amount,
            "ctr_signing_lag_days": float(d - _day(contract["signed_date"])),
            "ctr_seller_prior": float(prior),
            "ctr_seller_days_since": float(d - self.seller_last[s]) if prior > 0 else nan,
            "ctr_seller_bad_share": float(self.seller_bad[s]) / prior if prior > 0 else nan,
            "ctr_seller_conduct": float(self.conduct["party"][s]),
            "ctr_buyer_prior": float(self.buyer_n[b]),
            "ctr_pair_prior": float(self._pair(s * PAIR_SPAN + b)),
            "ctr_pair_same_day": float(self.day_pairs.get(s * PAIR_SPAN + b, 0)),
            "ctr_reverse_pair_prior": float(self._pair(b * PAIR_SPAN + s)),
            "ctr_institution_conduct": float(self.conduct["institution"][inst])
            if inst >= 0
            else nan,
            "ctr_broker_conduct": float(self.conduct["broker"][brk]) if brk >= 0 else nan,
            "ctr_broker_recent": recent,
            "ctr_broker_spike": spike,
            "ctr_seller_age_days": 0.0 if seller_first else float(d - self.first_day[s]),
            "ctr_seller_first": float(seller_first),
            "ctr_buyer_first": float(self.first_day[b] < 0),
            "ctr_own_z": own,
            "ctr_kind_peer_z": kind_z,
            **dict(zip(NETWORK_COLUMNS, self._network(k, d, amount, False), strict=True)),
        }

    def register(self, contract: Mapping[str, Any],
                 checked: Mapping[str, float] | None = None) -> None:
        """Add a registered contract to the state (after checking it). ``checked``: the
        :meth:`features` just computed for this contract on this state, which spares the
        network search a second time (the real-time check's cost is mostly that search)."""
        d = _day(contract["registered_date"])
        self._catch_up(d)
        k = self._codes(contract)
        s, b, brk = k.seller, k.buyer, k.broker
        prior = int(self.seller_n[s])
        amount = float(contract["amount_yuan"])
        x = float(np.log(amount)) - LOG_CENTER
        for table, key in ((self.fine, k.peer + _band(prior)), (self.coarse, k.ctype),
                           (self.by_kind, k.kind)):
            acc = table.setdefault(key, [0, 0.0, 0.0])
            acc[0] += 1
            acc[1] += x
            acc[2] += x * x
        if checked is None:
            self._network(k, d, amount, True)
        else:
            self.flows.add(k.seller, k.buyer, d, amount, k.institution, k.broker, k.office,
                           checked["ctr_cycle_len"] > 0)
        self.own_sum[s] += x
        self.seller_n[s] += 1
        self.buyer_n[b] += 1
        self.seller_last[s] = d
        for p in (s, b):
            if self.first_day[p] < 0:
                self.first_day[p] = d
        key = s * PAIR_SPAN + b
        self.pair_added[key] += 1
        self.day_pairs[key] += 1
        if brk >= 0:
            days = self.broker_days[brk]
            days.append(d)
            del days[:bisect.bisect_right(days, d - BROKER_BASE_DAYS)]


class _Codes(NamedTuple):
    seller: int
    buyer: int
    institution: int
    broker: int
    office: int
    ctype: int
    peer: int  # fine peer group before the seller-size band is added
    kind: int
    same_region: bool


def _same_region(contract: Mapping[str, Any]) -> bool:
    """Compared as codes, as the batch path does: an unknown province is no tie."""
    seller = REGION_CODES.get(contract["seller_region"], -1)
    return seller >= 0 and seller == REGION_CODES.get(contract["buyer_region"], -1)


def _peer(x: float, fine: list[float], coarse: list[float]) -> tuple[float, float, float]:
    """(z, mean, std) against the fine peers when there are enough, else the coarse ones."""
    n, sx, sq = fine if fine[0] >= MIN_PEERS else coarse
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = sx / n
    std = max(math.sqrt(max(sq / n - mean * mean, 0.0)), STD_FLOOR)
    return (x - mean) / std, mean, std
