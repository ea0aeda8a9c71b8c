"""What an office's review list catches: model, rules, and both, per fraud pattern.

An office reviews a fixed number of contracts a year (its capacity), so every ranking is
judged by the contracts it puts on that list. Recall is reported per planted pattern, with
the patterns nobody wrote a feature or rule against (held out) marked, because a detector
that only finds the recipes it was built from tells a regulator little. The other side of
the ledger is who is put on the list wrongly: the largest honest parties (a university with
hundreds of steady contracts) must not crowd it, so their exposure is reported too.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.metrics import top_k_by_group

TOP_SHARE = 0.10  # "top decile"
LARGE_PARTIES = 10


def recall_by_pattern(pattern: np.ndarray, offices: np.ndarray, k: int,
                      scores: Mapping[str, np.ndarray], held_out: frozenset[str] = frozenset()
                      ) -> pd.DataFrame:
    """Per pattern: contracts, and the share on the review list under each ranking.

    ``pattern`` is empty for honest contracts; ``scores`` maps a ranking's name (model, rules,
    combined) to its scores, higher reviewed first; each office reviews its top ``k``.
    """
    pattern = pd.Series(pattern).fillna("").astype("str").to_numpy()
    reviewed = {name: top_k_by_group(s, offices, k) for name, s in scores.items()}
    names = [*sorted(set(pattern) - {""}), "all"]
    rows = []
    for name in names:
        mine = pattern != "" if name == "all" else pattern == name
        row: dict[str, object] = {"pattern": name, "held_out": name in held_out,
                                  "contracts": int(mine.sum())}
        for ranking, on_list in reviewed.items():
            row[f"recall_{ranking}"] = float((mine & on_list).sum() / max(int(mine.sum()), 1))
        rows.append(row)
    return pd.DataFrame(rows)


def large_party_exposure(seller: np.ndarray, pattern: np.ndarray, offices: np.ndarray, k: int,
                         scores: Mapping[str, np.ndarray], n_parties: int = LARGE_PARTIES
                         ) -> pd.DataFrame:
    """The ``n_parties`` sellers with the most contracts and none planted: the share of their
    contracts in each ranking's top decile and on the review list (false positives)."""
    seller = pd.Series(seller).astype("str").to_numpy()
    planted = pd.Series(pattern).fillna("").astype("str").to_numpy() != ""
    dirty = set(seller[planted])
    counts = pd.Series(seller[~planted]).value_counts()
    large = [s for s in counts.index if s not in dirty][:n_parties]
    mine = np.isin(seller, large)
    rows = []
    for ranking, s in scores.items():
        s = np.asarray(s, dtype=np.float64)
        top = np.zeros(len(s), dtype=bool)  # by rank, so ties cannot empty or flood it
        top[np.argsort(-s, kind="stable")[: int(np.ceil(TOP_SHARE * len(s)))]] = True
        on_list = top_k_by_group(s, offices, k)
        rows.append({"ranking": ranking, "parties": len(large), "contracts": int(mine.sum()),
                     "top_decile_share": float(top[mine].mean()) if mine.any() else np.nan,
                     "review_share": float(on_list[mine].mean()) if mine.any() else np.nan,
                     "review_share_all": float(on_list.mean()) if len(s) else np.nan})
    return pd.DataFrame(rows)


def recall_intervals(pattern: np.ndarray, event: np.ndarray, reviewed: Mapping[str, np.ndarray],
                     reps: int = 1000, seed: int = 0) -> pd.DataFrame:
    """95% intervals of each ranking's recall per pattern, resampling whole planted schemes.

    The contracts of one scheme are reviewed or missed together (a ring is one case), so the
    bootstrap draws schemes, not contracts; ``reviewed`` maps a ranking to its review list.
    """
    pattern = pd.Series(pattern).fillna("").astype("str").to_numpy()
    rng = np.random.default_rng(seed)
    rows = []
    for name in sorted(set(pattern) - {""}):
        mine = pattern == name
        ev, inv = np.unique(np.asarray(event)[mine], return_inverse=True)
        size = np.bincount(inv, minlength=len(ev)).astype(np.float64)
        draws = rng.integers(0, len(ev), (reps, len(ev)))
        weight = np.stack([np.bincount(d, minlength=len(ev)) for d in draws])
        for ranking, on_list in reviewed.items():
            hit = np.bincount(inv, weights=on_list[mine].astype(np.float64), minlength=len(ev))
            recall = (weight @ hit) / (weight @ size)
            lo, hi = np.percentile(recall, [2.5, 97.5])
            rows.append({"pattern": name, "ranking": ranking, "schemes": len(ev),
                         "recall": float(hit.sum() / size.sum()), "lo": float(lo),
                         "hi": float(hi)})
    return pd.DataFrame(rows)
