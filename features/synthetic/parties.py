"""Drawing parties by kind and province, as the honest market and the planted events need.

One picker serves both, so a planted contract's seller or buyer is drawn the way an honest
one would be (by activity, within a kind and province), and the reserved parties that only
phantom-buyer events (buyers) or newcomer events (sellers) name are handed out once each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_N_REGIONS = 64  # more than the provinces, so kind * _N_REGIONS + region is a unique key


class PartyPicker:
    def __init__(self, parties: pd.DataFrame) -> None:
        kinds = parties["kind"].to_numpy()
        self.kinds = np.unique(kinds)
        self.kind = kinds
        self.region = parties["region_idx"].to_numpy()
        self.activity = parties["activity"].to_numpy()
        self.dishonest_ = parties["dishonest"].to_numpy()
        self.onset = parties["onset_year"].to_numpy()
        self._code = np.searchsorted(self.kinds, kinds)
        idle = self.activity == 0
        role = parties["reserve"].to_numpy() if "reserve" in parties else np.full(len(kinds), "")
        self._reserved = {k: np.flatnonzero((kinds == k) & idle & (role != "seller"))
                          for k in self.kinds}
        self._next = dict.fromkeys(self.kinds, 0)
        self._shells = np.flatnonzero(idle & (role == "seller"))
        self._shell_free = np.ones(len(self._shells), dtype=bool)

    def _groups(self, kinds: np.ndarray, regions: np.ndarray) -> dict[int, np.ndarray]:
        key = np.searchsorted(self.kinds, kinds) * _N_REGIONS + regions
        return pd.Series(np.arange(len(key))).groupby(key).indices

    def _weighted(self, rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
        cum = np.cumsum(self.activity[pool])
        picks = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
        return pool[picks.clip(0, len(pool) - 1)]

    def draw(self, rng: np.random.Generator, kinds: np.ndarray, regions: np.ndarray
             ) -> np.ndarray:
        """A trading party of each row's kind in its province (any province if none)."""
        out = np.empty(len(kinds), dtype=np.int64)
        for key, rows in self._groups(kinds, regions).items():
            code, region = divmod(int(key), _N_REGIONS)
            of_kind = (self._code == code) & (self.activity > 0)
            pool = np.flatnonzero(of_kind & (self.region == region))
            if len(pool) == 0:
                pool = np.flatnonzero(of_kind)
            out[rows] = self._weighted(rng, pool, len(rows))
        return out

    def dishonest(self, rng: np.random.Generator, kinds: np.ndarray, regions: np.ndarray,
                  years: np.ndarray) -> np.ndarray:
        """A dishonest trading party of each row's kind and province past its onset, or −1."""
        out = np.full(len(kinds), -1, dtype=np.int64)
        key = (np.searchsorted(self.kinds, kinds) * _N_REGIONS + regions) * 10_000 + years
        for k, rows in pd.Series(np.arange(len(key))).groupby(key).indices.items():
            rest, year = divmod(int(k), 10_000)
            code, region = divmod(rest, _N_REGIONS)
            pool = np.flatnonzero((self._code == code) & (self.region == region)
                                  & self.dishonest_ & (self.onset <= year) & (self.activity > 0))
            if len(pool):
                out[rows] = self._weighted(rng, pool, len(rows))
        return out

    def reserved(self, rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
        """A never-trading party of each row's kind, each used once while any are left."""
        out = np.empty(len(kinds), dtype=np.int64)
        for kind in np.unique(kinds):
            rows = np.flatnonzero(kinds == kind)
            pool, start = self._reserved[kind], self._next[kind]
            take = np.arange(start, start + len(rows))
            if len(pool) == 0:  # no reserve of this kind: fall back to any party of the kind
                out[rows] = rng.choice(np.flatnonzero(self.kind == kind), len(rows))
                continue
            out[rows] = pool[take % len(pool)]
            self._next[kind] = start + len(rows)
        return out

    def fresh_sellers(self, kinds: np.ndarray, regions: np.ndarray) -> np.ndarray:
        """A never-trading seller of each row's kind, of its province where one is left.

        Each is handed out once, so it appears in the register only where its event puts it;
        the province is kept where the reserve allows, so the seller's region (and the
        office and institution that follow it) stays as the template drew it. −1 where the
        kind's reserve is spent.
        """
        out = np.full(len(kinds), -1, dtype=np.int64)
        s_kind, s_region = self.kind[self._shells], self.region[self._shells]
        for i, (kind, region) in enumerate(zip(kinds, regions, strict=True)):
            of_kind = self._shell_free & (s_kind == kind)
            hit = np.flatnonzero(of_kind & (s_region == region))
            hit = hit if len(hit) else np.flatnonzero(of_kind)
            if len(hit):
                self._shell_free[hit[0]] = False
                out[i] = self._shells[hit[0]]
        return out
