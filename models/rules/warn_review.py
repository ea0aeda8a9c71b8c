"""What the entity warning rules in force make of a credit model's scores (评审中的预警检验).

A credit model is also judged by the warnings it causes: a model whose grades shift makes the
same rules warn more or fewer entities, and a reviewer approving it should see how many and
how precise they are before it scores anyone. So the review of a credit model carries the
warned share and the precision per tier on its test period, read exactly as a rules try reads
them (:func:`models.rules.trial.tier_summary`): the test rows' points and grades from the
model, each entity's previous grade its grade at its previous test month end (none at the
first: a first score alone warns no one), a bad record within 12 months (``y``) as irregular.
The panel keeps no per-contract anomaly scores, so rules over ``anomaly_share`` cannot fire
here and the note says so; ``techcredit rules try --kind entity`` measures every rule. Pure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.review_sections import Section
from models.risk_model import RiskModel
from models.rules.entity import EntityRules, WarningInputs
from models.rules.trial import tier_metrics, tier_summary
from models.rules.warn import warn

NEEDED = ("entity_id", "entity_kind", "as_of", "y", "p_model")


def warned_rows(rules: EntityRules, held: pd.DataFrame, model: RiskModel) -> pd.DataFrame:
    """One row per held-out entity and month end: ``entity`` (kind), ``tier`` (None: not
    warned) and ``irregular`` (a confirmed bad record within 12 months)."""
    rows = held.sort_values(["entity_id", "as_of"], kind="mergesort")
    p = rows["p_model"].to_numpy(dtype=np.float64)
    points = model.scale.points(p)
    grades = pd.Series(model.cuts.grade(p), index=rows.index)  # the master scale grades PD
    previous = grades.groupby(rows["entity_id"].to_numpy()).shift(1)
    alerts = warn(rules, [WarningInputs(float(pt), float(pr), str(g),
                                        None if pd.isna(pg) else str(pg), None)
                          for pt, pr, g, pg in zip(points, p, grades, previous, strict=True)])
    return pd.DataFrame({"entity": rows["entity_kind"].astype("str").to_numpy(),
                         "tier": [a.tier.value if a else None for a in alerts],
                         "irregular": rows["y"].to_numpy() == 1})


def warning_section(rules: EntityRules, held: pd.DataFrame, model: RiskModel, source: str
                    ) -> tuple[list[Section], dict[str, float]]:
    """The review's section and metrics (``warning.tier.<tier>.<entity>.share`` and
    ``.precision``); nothing when the held-out rows lack what it reads."""
    if any(c not in held for c in NEEDED) or not len(held):
        return [], {}
    table = tier_summary(warned_rows(rules, held, model))
    blind = [r.code for r in rules.rules if "anomaly_share" in r.when.names]
    note = (f"Entity warning rules v{rules.version} ({source}) applied to the test period's "
            "scores at every month end: warnings per tier, their share of everyone scored "
            "and their precision (a confirmed bad record within 12 months); 'warned' is every "
            "warning, 'scored' everyone (its precision is the base rate). The previous grade "
            "is the entity's grade at its previous test month end.")
    if blind:
        note += (f" Not evaluated here (the panel keeps no per-contract anomaly scores): "
                 f"{', '.join(blind)}; `techcredit rules try --kind entity` measures them.")
    section = Section("预警规则在测试期的预警占比与精确率",
                      "Warnings of the rules in force on the test period: share and precision "
                      "per tier", table, note)
    return [section], {f"warning.{k}": v for k, v in tier_metrics(table).items()}
