"""An entity's credit reasons: the declared reason codes that cost it the most points.

The model's contributions (TreeSHAP for LightGBM, WOE points for the scorecard; calibrated,
see :meth:`models.risk_model.RiskModel.contributions`) are summed per reason code
(:mod:`models.reason_codes`), so three features of one kind of conduct make one reason, not
three. Features that are not a reason (the entity kind, attributes without evidence), the
other kind's features (always missing: their weight is the kind's own) and any feature whose
value is missing (no record is no evidence: "no conduct record" is never shown as "conduct on
record") still count in the score but are never shown. Each reason says, in points, what it
costs and what the entity can do about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from models.reason_codes import code_of
from models.reasons import Descriptions, describe, show, value_of


@dataclass(frozen=True)
class CreditReason:
    """One reason of a credit score: the code's wording, the feature that weighs most in it
    (with the entity's value), the points lost, and the action."""

    code: str
    zh: str
    en: str
    feature: str
    detail_zh: str
    detail_en: str
    value: float | str | None
    points: float  # credit points lost to this code (sum over its features; positive)
    action_zh: str
    action_en: str

    @property
    def text_zh(self) -> str:
        return f"{self.zh}：{self.detail_zh}（{show(self.value)}），扣{self.points:.1f}分"

    @property
    def text_en(self) -> str:
        return f"{self.en}: {self.detail_en} ({show(self.value)}), −{self.points:.1f} points"

    def as_dict(self) -> dict:
        return {**asdict(self), "text_zh": self.text_zh, "text_en": self.text_en}


def coded_reasons(
    contrib: np.ndarray,
    x: np.ndarray,
    features: Sequence[str],
    levels: Mapping[str, Sequence[str]],
    descriptions: Descriptions,
    factor: float,
    shown: Sequence[str],
    top: int = 3,
) -> list[tuple[CreditReason, ...]]:
    """Per row, the ``top`` codes that raised the risk most, among the ``shown`` features.

    ``contrib`` is calibrated contributions (n × (features + 1)); a code's points are
    ``factor`` times the sum of its features' contributions, and only codes that cost points
    are reasons.
    """
    index = {f: j for j, f in enumerate(features)}
    groups: dict[str, list[int]] = {}
    for name in shown:
        code = code_of(name)
        if code is not None and name in index:
            groups.setdefault(code.code, []).append(index[name])
    codes = {c: code_of(features[js[0]]) for c, js in groups.items()}
    out = []
    for r in range(contrib.shape[0]):
        found = []
        for c, js in groups.items():
            phi = np.where(np.isnan(x[r, js]), 0.0, contrib[r, js])
            total = float(phi.sum())
            if total <= 0:
                continue
            j = js[int(np.argmax(phi))]
            name = features[j]
            zh, en = describe(name, descriptions)
            code = codes[c]
            found.append(CreditReason(code.code, code.zh, code.en, name, zh, en,
                                      value_of(x[r, j], levels.get(name)), factor * total,
                                      code.action_zh, code.action_en))
        found.sort(key=lambda reason: -reason.points)
        out.append(tuple(found[:top]))
    return out
