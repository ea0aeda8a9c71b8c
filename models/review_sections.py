"""The review's evidence sections: intervals per segment, permutation importance on the test
period, and any table a pipeline adds (per-pattern recall of the anomaly model).

Kept apart from :mod:`models.review`, which assembles the report: these are the figures a
reviewer needs before believing that one model beats another, and each costs seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evidence import SegmentEvidence, evidence_by_segment
from models.importance import permutation_importance
from models.reasons import describe
from models.risk_model import RiskModel

IMPORTANCE_ROWS = 50_000  # test rows shuffled per feature; all rows when fewer
IMPORTANCE_TOP = 15


@dataclass(frozen=True)
class Section:
    """A titled table of the report (titles in Chinese and English)."""

    title_zh: str
    title_en: str
    table: pd.DataFrame
    note: str = ""


def evidence_table(evidence: list[SegmentEvidence], baseline: str | None) -> pd.DataFrame:
    """One row per segment: AUC and KS with 95% intervals, the gain over the baseline."""
    rows = []
    for e in evidence:
        b = e.bootstrap
        row: dict[str, object] = {"segment": e.segment, "n": b.n, "entities": b.clusters,
                                  "bads": b.bads}
        for name, iv in b.auc.items():
            row[f"{name} AUC [95%]"] = str(iv)
        for name, iv in b.ks.items():
            row[f"{name} KS [95%]"] = str(iv)
        if baseline is not None and baseline in b.auc_gain:
            gain = b.auc_gain[baseline]
            row["AUC gain over baseline [95%]"] = str(gain)
            row["gain lower bound"] = gain.low
        if e.ceiling is not None:
            row["ceiling AUC (hidden truth)"] = e.ceiling
        rows.append(row)
    return pd.DataFrame(rows)


def evidence_section(held: pd.DataFrame, cluster: str, segment: str | None,
                     ceiling: str | None = None, seed: int = 0) -> Section:
    scores = {"LightGBM": "p_model"}
    if "p_baseline" in held:
        scores["scorecard"] = "p_baseline"
    evidence = evidence_by_segment(held, scores, cluster, segment, ceiling, seed=seed)
    return Section(
        "区间估计(按主体聚类自助法)",
        "Intervals (entity-clustered bootstrap)",
        evidence_table(evidence, "scorecard" if "scorecard" in scores else None),
        f"Whole {cluster} values are resampled, 1,000 replicates; the gain is LightGBM's AUC "
        "minus the scorecard's on the same replicate.",
    )


def importance_section(model: RiskModel, held: pd.DataFrame, seed: int = 0) -> Section:
    """Permutation importance on the test period: what each feature really contributes."""
    rows = held
    if len(rows) > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, random_state=seed)
    x = model.encoder.matrix(rows)
    table = permutation_importance(model.raw, x, rows["y"].to_numpy(), model.features, seed=seed)
    names = [describe(f, model.descriptions) for f in table["feature"]]
    table.insert(1, "zh", [zh for zh, _ in names])
    table.insert(2, "en", [en for _, en in names])
    return Section(
        "置换重要性(测试期)",
        "Permutation importance (test period)",
        table.head(IMPORTANCE_TOP),
        f"AUC lost when one feature is shuffled, on {len(rows):,} test rows, 3 shuffles.",
    )


def section_records(sections: tuple[Section, ...]) -> list[Mapping[str, object]]:
    return [
        {"title_zh": s.title_zh, "title_en": s.title_en, "note": s.note,
         "rows": s.table.replace({np.nan: None}).to_dict("records")}
        for s in sections
    ]
