"""Warning entities by the entity rules (主体风险预警): what the batch run does with a score.

An entity gets at most one warning, of the most severe tier among the rules that fire, listing
every firing rule with its reasons, so a regulator sees all the reasons at once. Conditions run
on whole columns at once. Pure: no database, no MLflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import panels
from models.rules.entity import (
    GRADES,
    INPUTS,
    AnomalyShare,
    AnomalyWindow,
    EntityRules,
    WarningInputs,
    numbers,
    texts,
)
from models.rules.tier import Tier


@dataclass(frozen=True)
class RiskAlert:
    """One entity's warning: the most severe tier that fired, and every firing rule."""

    tier: Tier
    codes: tuple[str, ...]
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]


def anomaly_shares(scores: pd.DataFrame, as_of: pd.Timestamp, window: AnomalyWindow
                   ) -> dict[tuple[str, str], AnomalyShare]:
    """``(kind, entity_id) → AnomalyShare`` from contract scores (``registered_date``,
    ``institution_id``, ``broker_id``, ``p_anomaly``) known at ``as_of``."""
    day = pd.Timestamp(as_of).normalize()
    reg = pd.to_datetime(scores["registered_date"])
    recent = scores[(reg > day - pd.Timedelta(days=window.days)) & (reg <= day)]
    out: dict[tuple[str, str], AnomalyShare] = {}
    for kind, _, _, key in panels.ENTITY_KINDS:
        part = recent[recent[key].notna()]
        hit = part["p_anomaly"].to_numpy(dtype=np.float64) >= window.threshold
        g = pd.DataFrame({"id": part[key].astype("str").to_numpy(), "hit": hit}).groupby("id")
        stats = g["hit"].agg(["size", "mean"])
        out.update({(kind, str(i)): AnomalyShare(int(n), float(m))
                    for i, n, m in zip(stats.index, stats["size"], stats["mean"], strict=True)})
    return out


def warn(rules: EntityRules, inputs: Sequence[WarningInputs]) -> list[RiskAlert | None]:
    """Per entity, its warning or None."""
    rows = [numbers(rules, one) for one in inputs]
    columns = {name: np.array([r[name] for r in rows], dtype=np.float64) for name in INPUTS}
    columns.update({g: np.full(len(inputs), float(i)) for i, g in enumerate(GRADES, 1)})
    fired = [(rule, rule.when.mask(columns)) for rule in rules.rules]
    out: list[RiskAlert | None] = []
    for i, one in enumerate(inputs):
        # most severe first; rules of one tier in the file's order (a stable sort)
        hits = sorted((r for r, mask in fired if mask[i]), key=lambda r: r.tier, reverse=True)
        if not hits:
            out.append(None)
            continue
        values = texts(rules, one)
        out.append(RiskAlert(hits[0].tier, tuple(r.code for r in hits),
                             tuple(r.zh.format(**values) for r in hits),
                             tuple(r.en.format(**values) for r in hits)))
    return out
