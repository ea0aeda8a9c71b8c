"""The review's evidence sections: which family serves and the intervals it was chosen on,
the null-importance selection, permutation importance on the test period, the grades' month-
to-month stability, and any table a pipeline adds (per-pattern recall of the anomaly model).

Kept apart from :mod:`models.review`, which assembles the report: these are the figures a
reviewer needs before believing that one model beats another, and each costs seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.champion import RULE_EN, RULE_ZH, FamilyChoice
from models.evidence import SegmentEvidence
from models.importance import NullImportance, permutation_importance
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


def evidence_section(evidence: Sequence[SegmentEvidence], cluster: str) -> Section:
    """The intervals the serving family was chosen on."""
    return Section(
        "区间估计(按主体聚类自助法)",
        "Intervals (entity-clustered bootstrap)",
        evidence_table(list(evidence), "scorecard"),
        f"Whole {cluster} values are resampled, 1,000 replicates; the gain is LightGBM's AUC "
        "minus the scorecard's on the same replicate.",
    )


def choice_section(choice: FamilyChoice) -> Section:
    """Which family serves which rows, with the rule and the interval behind each verdict."""
    return Section(
        "服务模型的选择(按证据)",
        "Which model serves (chosen on the evidence)",
        choice.table(),
        f"Rule / 规则: {RULE_EN} / {RULE_ZH}. The version serves these families; promoting it "
        "makes them the champion.",
    )


def selection_section(table: NullImportance) -> Section:
    """Null importance on all training rows: real gain against the shuffled-target refits."""
    kept = set(table.kept)
    frame = pd.DataFrame({
        "feature": table.features,
        "real gain": table.real,
        "null gain max": table.null.max(axis=0),
        "null gain mean": table.null.mean(axis=0),
        "kept (all rows)": [f in kept for f in table.features],
    }).sort_values("real gain", ascending=False, kind="mergesort")
    return Section(
        "特征选择(零重要性检验)",
        "Feature selection (null importance)",
        frame.reset_index(drop=True),
        f"LightGBM refitted {table.null.shape[0]} times on a shuffled target with the same "
        "trees and rounds; a feature is kept when its real gain beats every null run, on all "
        "training rows or within one entity kind (features dropped by both are listed with "
        "the reason under dropped columns).",
    )


def grade_stability(held: pd.DataFrame, model: RiskModel, entity: str | None,
                    time: str | None) -> Section | None:
    """Month-to-month stability of the master scale on the held-out period: per grade, the
    share of entities that are in another grade at the next month-end."""
    if entity is None or time is None or entity not in held or time not in held:
        return None
    frame = pd.DataFrame({"entity": held[entity].astype("str").to_numpy(),
                          "t": pd.to_datetime(held[time]).to_numpy(),
                          "grade": model.cuts.grade(held["p_model"].to_numpy())})
    frame = frame.sort_values(["entity", "t"], kind="mergesort")
    nxt = frame.groupby("entity")["grade"].shift(-1)
    pairs = frame.assign(next=nxt).dropna(subset=["next"])
    if not len(pairs):
        return None
    pairs = pairs.assign(changed=pairs["grade"] != pairs["next"])
    rows = [{"grade": "all", "pairs": len(pairs), "changed": float(pairs["changed"].mean())}]
    rows += [{"grade": g, "pairs": len(part), "changed": float(part["changed"].mean())}
             for g, part in pairs.groupby("grade", sort=True)]
    return Section(
        "评级稳定性(相邻月末)",
        "Grade stability (consecutive month-ends)",
        pd.DataFrame(rows),
        "Share of entities whose grade at the next month-end differs, on the held-out period.",
    )


def importance_section(model: RiskModel, held: pd.DataFrame, seed: int = 0) -> Section:
    """Permutation importance on the test period: what each feature really contributes."""
    rows = held
    if len(rows) > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, random_state=seed)
    x = model.encoder.matrix(rows)
    table = permutation_importance(model.logit, x, rows["y"].to_numpy(), model.features,
                                   seed=seed)
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
