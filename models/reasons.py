"""Reason codes: the factors that raised a score's risk, from LightGBM's own SHAP values.

``pred_contrib`` splits each raw log-odds into one contribution per feature plus a base
value, exactly (TreeSHAP; the scorecard's WOE points split its log-odds the same way). The
scoring object hands them over already calibrated (multiplied by the Platt slope), and in
points each is ``factor`` times that, so the reasons printed beside a score add up to that
score. Wording comes from a ``descriptions`` mapping (the feature catalogue), falling
back to the column name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

Descriptions = Mapping[str, tuple[str, str]]  # feature → (Chinese, English)


@dataclass(frozen=True)
class Reason:
    feature: str
    zh: str
    en: str
    value: float | str | None
    logit: float  # added to the calibrated log-odds of a bad outcome
    points: float  # credit points lost because of this factor (positive = lowers the score)

    @property
    def text_zh(self) -> str:
        return f"{self.zh}（{show(self.value)}）"

    @property
    def text_en(self) -> str:
        return f"{self.en} ({show(self.value)})"

    def as_dict(self) -> dict:
        return {**asdict(self), "text_zh": self.text_zh, "text_en": self.text_en}


def show(value: float | str | None) -> str:
    if value is None:
        return "缺失/missing"
    if isinstance(value, str):
        return value
    return f"{value:,.4g}"


def describe(feature: str, descriptions: Descriptions) -> tuple[str, str]:
    return tuple(descriptions.get(feature, (feature, feature)))  # type: ignore[return-value]


def top_reasons(
    contrib: np.ndarray,
    x: np.ndarray,
    features: Sequence[str],
    levels: Mapping[str, Sequence[str]],
    descriptions: Descriptions,
    factor: float,
    top: int = 3,
) -> list[list[Reason]]:
    """Per row, the ``top`` features with the largest positive contribution to risk.

    ``contrib`` is the calibrated contributions (n × (features + 1), last column the base
    value, :meth:`models.risk_model.RiskModel.contributions`); features that lowered risk
    are never given as reasons.
    """
    phi = contrib[:, :-1]
    order = np.argsort(-phi, axis=1, kind="mergesort")[:, :top]
    index = {f: i for i, f in enumerate(features)}
    out = []
    for r in range(phi.shape[0]):
        row = []
        for j in order[r]:
            if phi[r, j] <= 0:
                break
            name = features[j]
            zh, en = describe(name, descriptions)
            row.append(
                Reason(
                    name,
                    zh,
                    en,
                    value_of(x[r, index[name]], levels.get(name)),
                    float(phi[r, j]),
                    float(factor * phi[r, j]),
                )
            )
        out.append(row)
    return out


def value_of(v: float, levels: Sequence[str] | None) -> float | str | None:
    if np.isnan(v):
        return None
    return levels[int(v)] if levels is not None else float(v)


def shap_summary(contrib: np.ndarray, features: Sequence[str]) -> list[tuple[str, float]]:
    """Mean |SHAP| per feature, largest first: the model's global importance on a sample."""
    mean_abs = np.abs(contrib[:, :-1]).mean(axis=0)
    order = np.argsort(-mean_abs, kind="mergesort")
    return [(features[j], float(mean_abs[j])) for j in order]
