"""Per-contract integrity flags that need the whole market's contract network in a window.

Splitting, reciprocal flows and circular flows are properties of a contract among all the
market's contracts, not only those of one institution, so they are flagged once per as-of
date here and then averaged per institution or broker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.point_in_time.catalogue import CYCLE_MAX_DEGREE


def split_flags(seller: np.ndarray, buyer: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """True where the (seller, buyer, registered day) group holds two or more contracts."""
    frame = pd.DataFrame({"s": seller, "b": buyer, "d": reg})
    return frame.groupby(["s", "b", "d"], sort=False)["d"].transform("size").to_numpy() >= 2


def reciprocal_flags(seller: np.ndarray, buyer: np.ndarray) -> np.ndarray:
    """True where some contract in the same set goes the other way (buyer sells to seller)."""
    n = int(max(seller.max(initial=0), buyer.max(initial=0))) + 1
    pairs = np.unique(seller * n + buyer)
    return np.isin(buyer * n + seller, pairs) & (seller != buyer)


def cycle_flags(seller: np.ndarray, buyer: np.ndarray) -> np.ndarray:
    """True where the contract's edge lies on a directed 3-cycle A->B->C->A.

    Only parties with at most ``CYCLE_MAX_DEGREE`` distinct counterparties take part, and
    parties that cannot be on any cycle (no incoming or no outgoing edge) are pruned first,
    which keeps the sparse path count A @ A small on a national market.
    """
    flags = np.zeros(len(seller), dtype=bool)
    if len(seller) == 0:
        return flags
    n = int(max(seller.max(), buyer.max())) + 1
    edges = np.unique(seller * n + buyer)
    a, b = edges // n, edges % n
    loops = a == b
    lo, hi = np.minimum(a[~loops], b[~loops]), np.maximum(a[~loops], b[~loops])
    pairs = np.unique(lo * n + hi)  # a partner trading both ways is one counterparty
    degree = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    keep = (a != b) & (degree[a] <= CYCLE_MAX_DEGREE) & (degree[b] <= CYCLE_MAX_DEGREE)
    while True:
        has_out = np.bincount(a[keep], minlength=n) > 0
        has_in = np.bincount(b[keep], minlength=n) > 0
        nxt = keep & has_out[a] & has_in[a] & has_out[b] & has_in[b]
        if nxt.sum() == keep.sum():
            break
        keep = nxt
    if not keep.any():
        return flags
    adj = sp.csr_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    on_cycle = (adj @ adj).multiply(adj.T).tocoo()  # (b, a) entries: paths b->c->a closing a->b
    cyc_edges = on_cycle.col.astype(np.int64) * n + on_cycle.row.astype(np.int64)
    return np.isin(seller * n + buyer, cyc_edges)
