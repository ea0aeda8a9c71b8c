"""What an office's review list catches: model, rules, and both, per fraud pattern.

An office reviews a fixed number of contracts a year (its capacity), so every ranking is
judged by the contracts it puts on that list. Recall is reported per planted pattern, with
the patterns nobody wrote a feature or rule against (held out) marked, because a detector
that only finds the recipes it was built from tells a regulator little. The other side of
the ledger is who is put on the list wrongly: the largest honest parties (a university with
hundreds of steady contracts) must not crowd it, so their exposure is reported too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.synthetic.patterns import HELD_OUT
from models.anomaly import anomaly_metrics
from models.metrics import top_k_by_group
from models.review_sections import Section
from models.rules.rank import combined_score

TOP_SHARE = 0.10  # "top decile"
# The planted share of the register (features.synthetic.fraud.IRREGULAR_SHARE): a family is
# caught when at least half of its planted contracts rank within this top share of their year.
PLANTED_TOP = 0.02
LARGE_PARTIES = 10


def top_by_rank(scores: np.ndarray, share: float) -> np.ndarray:
    """The ``share`` of rows with the highest scores, by rank, so ties cannot empty or
    flood it."""
    s = np.asarray(scores, dtype=np.float64)
    top = np.zeros(len(s), dtype=bool)
    top[np.argsort(-s, kind="stable")[: int(np.ceil(share * len(s)))]] = True
    return top


def recall_by_pattern(pattern: np.ndarray, offices: np.ndarray, k: int,
                      scores: Mapping[str, np.ndarray], held_out: frozenset[str] = frozenset()
                      ) -> pd.DataFrame:
    """Per pattern: contracts, the share on the review list and the share in the top
    :data:`PLANTED_TOP` of all rows, under each ranking.

    ``pattern`` is empty for honest contracts; ``scores`` maps a ranking's name (model, rules,
    combined) to its scores, higher reviewed first; each office reviews its top ``k``.
    """
    pattern = pd.Series(pattern).fillna("").astype("str").to_numpy()
    reviewed = {name: top_k_by_group(s, offices, k) for name, s in scores.items()}
    top = {name: top_by_rank(s, PLANTED_TOP) for name, s in scores.items()}
    names = [*sorted(set(pattern) - {""}), "all"]
    rows = []
    for name in names:
        mine = pattern != "" if name == "all" else pattern == name
        row: dict[str, object] = {"pattern": name, "held_out": name in held_out,
                                  "contracts": int(mine.sum())}
        for ranking, on_list in reviewed.items():
            row[f"recall_{ranking}"] = float((mine & on_list).sum() / max(int(mine.sum()), 1))
        for ranking, in_top in top.items():
            row[f"top_{ranking}"] = float((mine & in_top).sum() / max(int(mine.sum()), 1))
        rows.append(row)
    return pd.DataFrame(rows)


def large_party_exposure(seller: np.ndarray, pattern: np.ndarray, offices: np.ndarray, k: int,
                         scores: Mapping[str, np.ndarray], n_parties: int = LARGE_PARTIES
                         ) -> pd.DataFrame:
    """The ``n_parties`` sellers with the most contracts and none planted: the share of their
    contracts in each ranking's top decile, in its top :data:`PLANTED_TOP` and on the review
    list (false positives). ``top_over_share``: their share of the top rows over their share
    of all rows (1 = no more exposed than their volume says; the issue's bound is 2)."""
    seller = pd.Series(seller).astype("str").to_numpy()
    planted = pd.Series(pattern).fillna("").astype("str").to_numpy() != ""
    dirty = set(seller[planted])
    counts = pd.Series(seller[~planted]).value_counts()
    large = [s for s in counts.index if s not in dirty][:n_parties]
    mine = np.isin(seller, large)
    rows = []
    for ranking, s in scores.items():
        top = top_by_rank(s, TOP_SHARE)
        planted_top = top_by_rank(s, PLANTED_TOP)
        on_list = top_k_by_group(s, offices, k)
        share_of_top = (planted_top & mine).sum() / max(int(planted_top.sum()), 1)
        rows.append({"ranking": ranking, "parties": len(large), "contracts": int(mine.sum()),
                     "top_decile_share": float(top[mine].mean()) if mine.any() else np.nan,
                     "top_share": float(planted_top[mine].mean()) if mine.any() else np.nan,
                     "top_over_share": float(share_of_top / mine.mean()) if mine.any()
                     else np.nan,
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


@dataclass(frozen=True)
class CapacityReview:
    """How a contract model is reviewed: as the offices work, each reading its top ``k``.

    Names the held-out columns it reads: the registration office, the seller, the rules' floor
    (the precision a contract's rule hits showed on the training period) and the planted
    pattern, which only a synthetic market's truth file gives; without it the review keeps the
    capacity metrics and leaves out recall per pattern and the large parties' exposure.
    """

    office: str
    seller: str
    rule_score: str
    pattern: str

    def rankings(self, held: pd.DataFrame) -> dict[str, np.ndarray]:
        """The three orderings of a review list: the model, the rules' floor, and both."""
        model, rules = held["p_model"].to_numpy(), held[self.rule_score].to_numpy()
        return {"model": model, "rules": rules, "combined": combined_score(model, rules)}

    def sections(self, held: pd.DataFrame, k: int, rules: str) -> list[Section]:
        """Per-pattern recall of model, rules and both, and the largest honest parties'
        exposure; ``rules`` says which rule set gave the floor."""
        if self.pattern not in held:
            return []
        offices = held[self.office].to_numpy()
        pattern = held[self.pattern].to_numpy()
        scores = self.rankings(held)
        recall = recall_by_pattern(pattern, offices, k, scores, frozenset(HELD_OUT))
        exposure = large_party_exposure(held[self.seller].to_numpy(), pattern, offices, k,
                                        scores)
        return [
            Section("各舞弊模式的审查召回率(模型、规则、合并)",
                    "Recall per fraud pattern at review capacity: model, rules, combined",
                    recall,
                    f"Each office reviews its top {k} contracts of the test period; patterns "
                    f"from the synthetic market's truth file; held_out = a variant of its "
                    f"family whose own shape no feature or rule threshold was chosen on; "
                    f"top_* = share of the pattern's contracts in the top {PLANTED_TOP:.0%} of "
                    f"all contracts of the period (the planted share). "
                    f"Rules: {rules}; alone they rank by the precision their hits showed on "
                    "the training period; combined = the higher of that and the model's "
                    "probability."),
            Section("最大诚信主体的误报", "False positives on the largest honest parties",
                    exposure,
                    f"The {LARGE_PARTIES} sellers with the most contracts in the test period "
                    f"and none planted: share of their contracts in the top decile, in the top "
                    f"{PLANTED_TOP:.0%} and on the review list (review_share_all = the list's "
                    f"share of all contracts; top_over_share = their share of the top "
                    f"{PLANTED_TOP:.0%} over their share of all contracts)."),
        ]

    def metrics(self, held: pd.DataFrame, k: int, sections: Sequence[Section]
                ) -> dict[str, float]:
        """Precision and recall at each office's capacity, then the figures of ``sections``
        (from :meth:`sections` on the same rows) flattened into named metrics."""
        out = anomaly_metrics(held["y"], held["p_model"], held[self.office].to_numpy(), k)
        for section in sections:
            frame = section.table
            if "pattern" in frame:
                out |= {f"{col}_{r['pattern']}": float(r[col])
                        for r in frame.to_dict("records")
                        for col in ("recall_model", "recall_rules", "recall_combined",
                                    "top_model", "top_rules", "top_combined")}
            else:
                out |= {f"large_party_{col}_{r['ranking']}": float(r[col])
                        for r in frame.to_dict("records")
                        for col in ("top_decile_share", "top_share", "top_over_share",
                                    "review_share")}
        return out
