"""Contract features at registration time, computed in batch (the online semantics).

A contract is described as the registration office saw it when it was registered: its
history is every contract before it in ``(registered_date, contract_id)`` order (same-day
contracts with a smaller id included), and status changes and conduct records count only
when dated strictly before its registration day. Batch computation runs cumulative counts
over the contracts sorted in that order; :mod:`features.point_in_time.online` keeps the same
quantities as
running totals, and a test proves both give the same values.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from features.point_in_time.catalogue import MIN_PEERS, OWN_SHRINK, names_of
from features.point_in_time.contract_graph import network_features
from features.point_in_time.entity import just_above, round_amount
from features.point_in_time.history import NEVER, History

LOG_CENTER = float(np.log(1e5))  # log amounts are centred before summing, for precision
STD_FLOOR = 0.1  # peer std never below this, so tiny peer groups do not explode the z-score
BROKER_RECENT_DAYS = 30
BROKER_BASE_DAYS = 365
N_FIELDS, N_REGIONS, N_BANDS, N_KINDS = 12, 31, 4, 4


def size_band(prior: np.ndarray) -> np.ndarray:
    """Seller-size band from the seller's earlier contracts: 0, 1-9, 10-99, 100+."""
    return np.digitize(prior, [1, 10, 100])


def peer_group(ctype: np.ndarray, field: np.ndarray, region: np.ndarray, band: np.ndarray
               ) -> np.ndarray:
    return ((ctype * N_FIELDS + field) * N_REGIONS + region) * N_BANDS + band


Sums = tuple[np.ndarray, np.ndarray, np.ndarray]  # (n, sum, sum of squares) per row


def kind_group(ctype: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Peer group of contract type and seller kind; an unknown kind (-1) has its own slot."""
    return ctype * (N_KINDS + 1) + kind + 1


def peer_stats(fine: Sums, coarse: Sums) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, mean, std) of the peers: the fine group when it has enough, else the coarse one."""
    n_f, s_f, q_f = fine
    n_c, s_c, q_c = coarse
    use_fine = n_f >= MIN_PEERS
    n = np.where(use_fine, n_f, n_c).astype(np.float64)
    s = np.where(use_fine, s_f, s_c)
    q = np.where(use_fine, q_f, q_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        std = np.maximum(np.sqrt(np.maximum(q / n - mean * mean, 0.0)), STD_FLOOR)
    return n, mean, std


def peer_z(x: np.ndarray, fine: Sums, coarse: Sums) -> np.ndarray:
    """z of centred log amounts against earlier peers given (n, sum, sum of squares)."""
    n, mean, std = peer_stats(fine, coarse)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, (x - mean) / std, np.nan)


def own_z(x: np.ndarray, own_n: np.ndarray, own_sum: np.ndarray, fine: Sums, coarse: Sums
          ) -> np.ndarray:
    """z against the party's own mean shrunk toward its peers' (a newcomer gets the peers')."""
    n, mean, std = peer_stats(fine, coarse)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrunk = (own_sum + OWN_SHRINK * mean) / (own_n + OWN_SHRINK)
        return np.where(n > 0, (x - shrunk) / std, np.nan)


def first_rows(s_all: np.ndarray, b_all: np.ndarray, n_party: int) -> np.ndarray:
    """Per party, the first row it appears in on either side (``len`` when never)."""
    hi = len(s_all)
    first = np.full(n_party, hi, dtype=np.int64)
    np.minimum.at(first, s_all, np.arange(hi))
    np.minimum.at(first, b_all, np.arange(hi))
    return first


class Groups:
    """Rows grouped by an integer key, each group in row (registration) order.

    ``order`` lists the rows group by group; ``first`` is, for each position of ``order``,
    the position where its group starts. Sorting a packed ``key * span + row`` integer is an
    order of magnitude faster than a stable argsort of the key.
    """

    def __init__(self, key: np.ndarray) -> None:
        n = len(key)
        bits = max(int(n).bit_length(), 1)
        top = int(key.max(initial=0)).bit_length()
        if top + bits < 63 and key.min(initial=0) >= 0:
            packed = np.sort(key.astype(np.int64) << bits | np.arange(n, dtype=np.int64))
            self.order = packed & ((1 << bits) - 1)
            sorted_key = packed >> bits
        else:
            self.order = np.argsort(key, kind="stable")
            sorted_key = key[self.order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        self.first = np.repeat(starts, np.diff(np.r_[starts, n]))
        self.rank = np.empty(n, dtype=np.int64)  # position of each row inside ``order``
        self.rank[self.order] = np.arange(n)

    def earlier(self, rows: np.ndarray) -> np.ndarray:
        """How many rows of the same group come before each of ``rows``."""
        k = self.rank[rows]
        return k - self.first[k]

    def previous(self, rows: np.ndarray) -> np.ndarray:
        """The row before each of ``rows`` in its group, -1 for the first."""
        k = self.rank[rows]
        return np.where(k > self.first[k], self.order[np.maximum(k - 1, 0)], -1)

    def runs_earlier(self, sub: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Earlier rows of the same group with equal ``sub`` (``sub`` non-decreasing by row)."""
        s = sub[self.order]
        n = len(s)
        change = np.r_[True, (s[1:] != s[:-1]) | (self.first[1:] == np.arange(1, n))]
        starts = np.flatnonzero(change)
        run_first = np.repeat(starts, np.diff(np.r_[starts, n]))
        k = self.rank[rows]
        return k - run_first[k]

    def _cumsums(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Running sums of x and x**2 within each group, added one by one in row order."""
        xs = x[self.order]
        cs, cq = np.empty(len(xs)), np.empty(len(xs))
        bounds = np.flatnonzero(np.r_[True, self.first[1:] != self.first[:-1], True])
        for a, b in itertools.pairwise(bounds):
            cs[a:b] = np.cumsum(xs[a:b])
            cq[a:b] = np.cumsum(xs[a:b] * xs[a:b])
        return cs, cq

    def prior_sums(self, x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sums of x and x**2 over the earlier rows of the group, for each of ``rows``."""
        cs, cq = self._cumsums(x)
        k = self.rank[rows]
        has = k > self.first[k]
        prev = np.maximum(k - 1, 0)
        return np.where(has, cs[prev], 0.0), np.where(has, cq[prev], 0.0)

    def totals(self, key: np.ndarray, x: np.ndarray) -> dict[int, list[float]]:
        """``{key: [count, sum x, sum x**2]}`` over all rows, summed as :meth:`prior_sums` does."""
        cs, cq = self._cumsums(x)
        last = np.flatnonzero(np.r_[self.first[1:] != self.first[:-1], True])
        counts = last - self.first[last] + 1
        keys = key[self.order[last]]
        return {int(k): [int(n), float(a), float(q)]
                for k, n, a, q in zip(keys, counts, cs[last], cq[last], strict=True)}


def _count_before(event_key: np.ndarray, event_day: np.ndarray, key: np.ndarray, day: np.ndarray
                  ) -> np.ndarray:
    """Per row: number of events with the same key dated strictly before the row's day."""
    ok = (event_key >= 0) & (event_day < NEVER)
    span = np.int64(2**20)
    base = int(min(event_day[ok].min(initial=0), day.min(initial=0)))
    ev = np.sort(event_key[ok] * span + (event_day[ok] - base))
    q = key * span
    return (np.searchsorted(ev, q + (day - base), side="left") - np.searchsorted(ev, q)).astype(
        np.float64)


def contract_features(h: History, rows: np.ndarray) -> pd.DataFrame:
    """Features of the contracts at positions ``rows`` of ``h.contracts`` (registration order).

    Only contracts up to the last requested position are read, so the result never depends on
    contracts registered later. Grouping sorts the whole prefix once per key; the per-row
    look-ups are then done for the requested rows only.
    """
    rows = np.asarray(rows, dtype=np.int64)
    hi = int(rows.max()) + 1 if len(rows) else 0
    c = h.contracts.iloc[:hi]
    s_all, b_all, d_all = (c[k].to_numpy() for k in ("seller", "buyer", "reg"))
    s, b, d = s_all[rows], b_all[rows], d_all[rows]
    amount = c["amount"].to_numpy()[rows]

    by_seller = Groups(s_all)
    seller_prior = by_seller.earlier(rows)
    prev = by_seller.previous(rows)
    prev_day = np.where(prev >= 0, d_all[np.maximum(prev, 0)], -1)
    buyer_prior = Groups(b_all).earlier(rows)
    n_party = np.int64(len(h.party_ids) + 1)
    pair_all = s_all * n_party + b_all
    by_pair = Groups(pair_all)
    pair_prior = by_pair.earlier(rows)
    pair_day = by_pair.runs_earlier(d_all, rows)
    # reverse flows: earlier contracts whose pair is this contract's pair reversed
    span = np.int64(hi + 1)
    seen = np.sort(pair_all * span + np.arange(hi, dtype=np.int64))
    rev = b * n_party + s
    reverse_prior = np.searchsorted(seen, rev * span + rows) - np.searchsorted(seen, rev * span)

    allc = h.contracts
    seller_bad = _count_before(allc["seller"].to_numpy(), allc["bad_day"].to_numpy(), s, d)
    cr = h.conduct

    def conduct(kind: str, key: np.ndarray) -> np.ndarray:
        m = (cr["kind"] == kind).to_numpy()
        got = _count_before(cr["subject"].to_numpy()[m], cr["confirmed"].to_numpy()[m],
                            np.maximum(key, 0), d)
        return np.where(key >= 0, got, np.nan)

    inst, brk = c["inst"].to_numpy()[rows], c["broker"].to_numpy()
    recent, base = _broker_windows(brk, d_all, rows)

    x_all = np.log(c["amount"].to_numpy()) - LOG_CENTER
    x = x_all[rows]
    ctype = c["ctype"].to_numpy()
    # seller-size band of every earlier contract needs every row's own seller history
    band_all = size_band(Groups(s_all).earlier(np.arange(hi)))
    fine_groups = Groups(peer_group(ctype, c["field"].to_numpy(), c["seller_region"].to_numpy(),
                                    band_all))
    coarse_groups = Groups(ctype)
    fine = (fine_groups.earlier(rows), *fine_groups.prior_sums(x_all, rows))
    coarse = (coarse_groups.earlier(rows), *coarse_groups.prior_sums(x_all, rows))
    kind_groups = Groups(kind_group(ctype, c["seller_kind"].to_numpy()))
    by_kind = (kind_groups.earlier(rows), *kind_groups.prior_sums(x_all, rows))
    own_sum, _ = by_seller.prior_sums(x_all, rows)
    first = first_rows(s_all, b_all, len(h.party_ids))
    seller_first, buyer_first = first[s] >= rows, first[b] >= rows
    srt = np.unique(rows)
    net = network_features(h, srt)
    at = np.searchsorted(srt, rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "ctr_log_amount": np.log(amount),
            "ctr_peer_z": peer_z(x, fine, coarse),
            "ctr_just_above_threshold": just_above(amount).astype(np.float64),
            "ctr_round_amount": round_amount(amount).astype(np.float64),
            "ctr_tech_share": c["tech_amount"].to_numpy()[rows] / amount,
            "ctr_signing_lag_days": (d - c["signed"].to_numpy()[rows]).astype(np.float64),
            "ctr_seller_prior": seller_prior.astype(np.float64),
            "ctr_seller_days_since": np.where(prev >= 0, d - prev_day, np.nan),
            "ctr_seller_bad_share": np.where(seller_prior > 0, seller_bad / seller_prior, np.nan),
            "ctr_seller_conduct": conduct("party", s),
            "ctr_buyer_prior": buyer_prior.astype(np.float64),
            "ctr_pair_prior": pair_prior.astype(np.float64),
            "ctr_pair_same_day": pair_day.astype(np.float64),
            "ctr_reverse_pair_prior": reverse_prior.astype(np.float64),
            "ctr_institution_conduct": conduct("institution", inst),
            "ctr_broker_conduct": conduct("broker", brk[rows]),
            "ctr_broker_recent": recent,
            "ctr_broker_spike": (recent + 1) / (base * BROKER_RECENT_DAYS
                                                / (BROKER_BASE_DAYS - BROKER_RECENT_DAYS) + 1),
            "ctr_seller_age_days": np.where(
                seller_first, 0.0, d - d_all[np.minimum(first[s], hi - 1)]).astype(np.float64),
            "ctr_seller_first": seller_first.astype(np.float64),
            "ctr_buyer_first": buyer_first.astype(np.float64),
            "ctr_own_z": own_z(x, seller_prior, own_sum, fine, coarse),
            "ctr_kind_peer_z": peer_z(x, by_kind, coarse),
            **{name: col[at] for name, col in net.items()},
        }
    names = names_of("contract")
    if set(values) != set(names):
        raise RuntimeError(f"contract features computed {sorted(values)}, declared {sorted(names)}")
    out = pd.DataFrame({n: np.asarray(values[n], dtype=np.float64) for n in names})
    out.insert(0, "contract_id", c["contract_id"].take(rows).array)  # its dtype, even empty
    out.insert(1, "registered_date", d.astype("datetime64[D]").astype("datetime64[s]"))
    return out


def _broker_windows(brk: np.ndarray, d: np.ndarray, rows: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For ``rows``: the broker's earlier contracts in the last 30 days, and 31-365 days back."""
    has = brk >= 0
    earlier = Groups(brk + 1).earlier(rows)
    span = np.int64(2**20)
    base_day = int(d.min(initial=0)) - BROKER_BASE_DAYS
    keyed = np.sort(brk[has] * span + (d[has] - base_day))  # (broker, day), grouped by broker
    q = brk[rows] * span

    def upto(day: np.ndarray) -> np.ndarray:  # broker's contracts registered on or before day
        return (
            np.searchsorted(keyed, q + (day - base_day), side="right")
            - np.searchsorted(keyed, q)
        )

    dr = d[rows]
    old = upto(dr - BROKER_RECENT_DAYS)
    recent = earlier - old
    base = old - upto(dr - BROKER_BASE_DAYS)
    ok = has[rows]
    return np.where(ok, recent, np.nan), np.where(ok, base, np.nan)
