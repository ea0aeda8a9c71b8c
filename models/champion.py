"""Which model family serves: the rule, applied to the entity-clustered evidence.

**Prefer the simpler scorecard unless LightGBM's gain is shown.** For every level of the
compared segment (entity kind) LightGBM serves only when the 95 % interval of its AUC gain over
the scorecard (both scored on the same held-out rows, whole entities resampled) lies entirely
above zero; otherwise the scorecard serves: its points per attribute are what a regulator can
read and defend, and a gain that may be zero does not pay for the opacity. Rows of a level with
no evidence (too few rows, one class, a level first seen in serving) follow the verdict on all
rows together. The rule is stated in docs/model-card.md (§2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from models.evidence import Interval, SegmentEvidence
from models.risk_model import Family, Route

GAIN_MODEL = "scorecard"  # evidence's auc_gain key: LightGBM's AUC minus the scorecard's
ALL = "all"
RULE_ZH = ("除非LightGBM相对评分卡的AUC增益的95%区间(按主体聚类自助法)整体高于0，"
           "否则由更简单的评分卡服务")
RULE_EN = ("the simpler scorecard serves unless LightGBM's AUC gain over it has a 95 % "
           "entity-clustered interval entirely above zero")


@dataclass(frozen=True)
class Comparison:
    """How a fit compares the families: ``cluster`` the column whose values are resampled
    whole (None: each row alone), ``within`` the segment each level of which gets its own
    verdict (None: one verdict), ``ceiling`` a hidden-truth column scored beside them."""

    cluster: str | None = None
    within: str | None = None
    ceiling: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The family chosen for one segment level (or all rows), and why, in zh and en."""

    level: str
    family: Family
    gain: Interval | None
    why_zh: str
    why_en: str


@dataclass(frozen=True)
class FamilyChoice:
    """The verdict on all rows and per level of ``column``."""

    column: str | None
    overall: Verdict
    levels: tuple[Verdict, ...] = ()

    def route(self) -> Route:
        return Route(self.overall.family, self.column,
                     {v.level: v.family for v in self.levels})

    def table(self) -> pd.DataFrame:
        rows = [{"segment": v.level, "serves": v.family,
                 "LightGBM gain [95%]": "" if v.gain is None else str(v.gain),
                 "why (zh)": v.why_zh, "why (en)": v.why_en}
                for v in (self.overall, *self.levels)]
        return pd.DataFrame(rows)

    def as_dict(self) -> dict:
        return {"rule_zh": RULE_ZH, "rule_en": RULE_EN, "column": self.column,
                "served": {v.level: v.family for v in (self.overall, *self.levels)}}


def verdict(level: str, gain: Interval | None) -> Verdict:
    """The rule on one gain interval (None: no evidence → the scorecard)."""
    if gain is None:
        return Verdict(level, "scorecard", None, "无法比较(行数不足或只有一类)，选用评分卡",
                       "no evidence (too few rows or one class): the scorecard")
    if gain.low > 0:
        return Verdict(level, "lightgbm", gain,
                       f"LightGBM增益{gain.point:+.4f}，区间[{gain.low:+.4f}, {gain.high:+.4f}]"
                       "整体高于0",
                       f"LightGBM gains {gain.point:+.4f}, interval [{gain.low:+.4f}, "
                       f"{gain.high:+.4f}] entirely above zero")
    return Verdict(level, "scorecard", gain,
                   f"LightGBM增益{gain.point:+.4f}，区间[{gain.low:+.4f}, {gain.high:+.4f}]"
                   "未整体高于0：选用更简单的评分卡",
                   f"LightGBM gains {gain.point:+.4f}, interval [{gain.low:+.4f}, "
                   f"{gain.high:+.4f}] not above zero: the simpler scorecard")


def choose_family(evidence: Sequence[SegmentEvidence], column: str | None) -> FamilyChoice:
    """The rule applied to :func:`models.evidence.evidence_by_segment`'s output (models
    ``LightGBM`` then ``scorecard``)."""
    gains = {e.segment: e.bootstrap.auc_gain.get(GAIN_MODEL) for e in evidence}
    overall = verdict(ALL, gains.get(ALL))
    levels = tuple(verdict(s, g) for s, g in gains.items() if s != ALL)
    return FamilyChoice(column, overall, levels if column is not None else ())


def lightgbm_only(reason_zh: str, reason_en: str) -> FamilyChoice:
    """No comparison (the model's policy, or no baseline fitted): LightGBM serves all rows."""
    return FamilyChoice(None, Verdict(ALL, "lightgbm", None, reason_zh, reason_en))
