"""The rows monitoring compares: the credit model's inputs with its score, for the training
window (the reference) and for one month.

Both are assembled exactly as training and scoring assemble them: entity features from the
point-in-time layer and anomaly aggregates from the contract scores the credit version was
trained with (:mod:`models.scoring`), so a difference between the two is the market moving,
not two pipelines disagreeing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from models import panels
from models.entity_evidence import entity_aggregates, join_aggregates
from models.monitoring.reference import SCORE
from models.risk_model import RiskModel


def window_rows(entities: Mapping[str, pd.DataFrame], scores: pd.DataFrame,
                as_ofs: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Institution and broker rows at each of ``as_ofs`` with their anomaly aggregates:
    :func:`models.panels.credit_panel` for several dates, without labels or regions."""
    dates = [pd.Timestamp(d).normalize() for d in as_ofs]
    parts = []
    aggregates = entity_aggregates(scores, dates)
    for kind, prefix, _, _ in panels.ENTITY_KINDS:
        p = entities[kind].astype({"entity_id": "str"})
        p["as_of"] = pd.to_datetime(p["as_of"]).astype("datetime64[ns]")
        p = join_aggregates(p[p["as_of"].isin(dates)], aggregates[kind], prefix)
        parts.append(p.assign(entity_kind=kind))
    return pd.concat(parts, ignore_index=True)


def with_scores(model: RiskModel, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with the model's ``probability``, points (as :data:`SCORE`) and ``grade``:
    the numbers batch scoring writes, without the reasons monitoring does not need."""
    full = rows.reindex(columns=list(dict.fromkeys([*rows.columns, *model.features])))
    logit = model.logit(model.encoder.matrix(full))
    p = 1.0 / (1.0 + np.exp(-logit))
    return full.assign(probability=p, **{SCORE: model.scale.points_from_logit(logit)},
                       grade=model.cuts.grade(p))
