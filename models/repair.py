"""Credit repair guidance (信用修复指引): the smallest changes in actionable reasons that would move
an entity up one grade, found by asking the served model itself.

**Search.** Greedy, over the features of actionable reason codes only
(:data:`models.reason_codes.STEMS` gives each its clean value; conduct history, warnings,
attributes and the entity kind are never moved). Each feature may move from its value toward
its clean value in tenths of the way. Each round scores every single move from the current
state in one batch; if some move reaches the next grade, the smallest such move (fewest
tenths, then the lowest probability) ends the search; otherwise the feature whose full repair
lowers the probability most is repaired and the next round starts, at most
:data:`MAX_CHANGES` features. Most of these features are monotone in the model (a share of
suspicious contracts never lowers risk), so the first tenth that reaches the grade is the
smallest change along that feature; for the others every tenth is still scored.

The changes are what-ifs on the model, not promises: a share falls only as clean contracts
are registered, and the regulator deciding a repair reads them with the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from models.reason_codes import code_of, lever_of
from models.reasons import describe
from models.risk_model import RiskModel
from models.scaling import GRADES

STEPS = 10  # a move is k tenths of the way to the clean value
MAX_CHANGES = 4
METHOD = ("greedy search over actionable features toward their clean values in tenths; "
          "each step scored by the served model")


@dataclass(frozen=True)
class Change:
    """One actionable feature moved: its reason code, wording and values before and after."""

    feature: str
    code: str
    zh: str
    en: str
    before: float
    after: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Repair:
    """The plan for one entity: from ``grade`` to ``target`` (None: already the best grade).
    When the target is out of reach, ``changes`` are the repairs tried before giving up."""

    grade: str
    target: str | None
    reachable: bool
    changes: tuple[Change, ...]
    probability: float
    probability_after: float
    points_after: float

    @property
    def entity_zh(self) -> str:
        if self.target is None:
            return "已是最高等级，保持如实登记与报告即可"
        if not self.reachable:
            return (f"仅凭可改进的因素无法升至{self.target}级：失信记录等历史因素只随时间减弱，"
                    "可按规定完成整改后申请信用修复")
        steps = "；".join(f"将{c.zh}从{_v(c.before)}改善到{_v(c.after)}" for c in self.changes)
        return f"升至{self.target}级的最小改进：{steps}"

    @property
    def entity_en(self) -> str:
        if self.target is None:
            return "already the best grade: keep registering and reporting truthfully"
        if not self.reachable:
            return (f"grade {self.target} is out of reach through actionable factors alone: "
                    "conduct history only fades with time; rectify and apply for credit repair "
                    "as the rules allow")
        steps = "; ".join(f"{c.en} from {_v(c.before)} to {_v(c.after)}" for c in self.changes)
        return f"smallest improvement to reach grade {self.target}: {steps}"

    @property
    def regulator_zh(self) -> str:
        if self.target is None:
            return "已是最高等级，无需修复"
        head = (f"模型评分：{self.grade}级，违约概率{self.probability:.1%}。")
        if not self.reachable:
            return head + (f"在{MAX_CHANGES}项可改进因素内无法升至{self.target}级，"
                           "评分主要由历史失信记录等不可即时改变的因素决定")
        return head + (f"若该主体{'、'.join(f'{c.zh}改善到{_v(c.after)}' for c in self.changes)}，"
                       f"将升至{self.target}级(概率{self.probability_after:.1%}，"
                       f"{self.points_after:.0f}分)；修复决定应核实这些改进确已发生")

    @property
    def regulator_en(self) -> str:
        if self.target is None:
            return "already the best grade: no repair to decide"
        head = f"model: grade {self.grade}, probability {self.probability:.1%}. "
        if not self.reachable:
            return head + (f"grade {self.target} is not reachable within {MAX_CHANGES} "
                           "actionable factors: the score rests on history such as conduct "
                           "records that cannot change at once")
        moved = ", ".join(f"{c.en} to {_v(c.after)}" for c in self.changes)
        return head + (f"with {moved}, the entity would reach grade {self.target} (probability "
                       f"{self.probability_after:.1%}, {self.points_after:.0f} points); a "
                       "repair decision should verify that these improvements took place")

    def as_dict(self) -> dict:
        return {"grade": self.grade, "target": self.target, "reachable": self.reachable,
                "changes": [c.as_dict() for c in self.changes],
                "probability": self.probability, "probability_after": self.probability_after,
                "points_after": self.points_after, "method": METHOD,
                "entity_zh": self.entity_zh, "entity_en": self.entity_en,
                "regulator_zh": self.regulator_zh, "regulator_en": self.regulator_en}


def _v(value: float) -> str:
    return f"{value:,.4g}"


def levers(features: Sequence[str], shown: Sequence[str]) -> dict[int, float]:
    """Column index → clean value, for the shown features of actionable codes."""
    allowed = set(shown)
    out = {}
    for j, name in enumerate(features):
        lever = lever_of(name) if name in allowed else None
        if lever is not None:
            out[j] = lever.better
    return out


def _target(model: RiskModel, p: float) -> tuple[str, str | None, float]:
    """Current grade, the next better one, and the PD the entity must get below."""
    grade = str(model.cuts.grade(np.array([p]))[0])
    i = GRADES.index(grade)
    if i == 0:
        return grade, None, 0.0
    target = GRADES[i - 1]
    return grade, target, {g: hi for g, _, hi in model.cuts.bands()}[target]


def repair_plan(model: RiskModel, x: np.ndarray, shown: Sequence[str],
                descriptions: Mapping[str, tuple[str, str]] | None = None) -> Repair:
    """The plan for one encoded row ``x`` (1 × features) among the ``shown`` features."""
    row = np.asarray(x, dtype=float).reshape(1, -1).copy()
    p0 = float(model.predict_matrix(row)[0])
    grade, target, bound = _target(model, p0)
    if target is None:
        return Repair(grade, None, True, (), p0, p0, float(model.scale.points(p0)))
    words = descriptions if descriptions is not None else model.descriptions
    open_levers = {j: b for j, b in levers(model.features, shown).items()
                   if not np.isnan(row[0, j]) and row[0, j] != b}
    fractions = np.arange(1, STEPS + 1) / STEPS
    moved: dict[int, float] = {}
    p = p0
    while open_levers and len(moved) < MAX_CHANGES:
        cols = list(open_levers)
        batch = np.repeat(row, len(cols) * STEPS, axis=0)
        for i, j in enumerate(cols):
            start = row[0, j]
            batch[i * STEPS:(i + 1) * STEPS, j] = start + (open_levers[j] - start) * fractions
        probs = model.predict_matrix(batch).reshape(len(cols), STEPS)
        reach = probs < bound
        if reach.any():
            first = np.where(reach.any(axis=1), reach.argmax(axis=1), STEPS)
            best = min(range(len(cols)), key=lambda i: (first[i], probs[i, min(first[i],
                                                                               STEPS - 1)]))
            j, k = cols[best], int(first[best])
            row[0, j] = batch[best * STEPS + k, j]
            moved[j] = row[0, j]
            p = float(probs[best, k])
            return _plan(model, x, moved, grade, target, True, p0, p, words)
        best = int(np.argmin(probs[:, -1]))
        if probs[best, -1] >= p:  # no lever lowers the risk any further
            break
        j = cols[best]
        row[0, j] = open_levers.pop(j)
        moved[j] = row[0, j]
        p = float(probs[best, -1])
    return _plan(model, x, moved, grade, target, False, p0, p, words)


def _plan(model: RiskModel, x: np.ndarray, moved: Mapping[int, float], grade: str,
          target: str, reachable: bool, p0: float, p: float,
          words: Mapping[str, tuple[str, str]]) -> Repair:
    changes = []
    for j, after in moved.items():
        name = model.features[j]
        zh, en = describe(name, words)
        code = code_of(name)
        changes.append(Change(name, code.code if code else "", zh, en,
                              float(np.asarray(x, dtype=float).reshape(-1)[j]), float(after)))
    return Repair(grade, target, reachable, tuple(changes), p0, p,
                  float(model.scale.points(p)))
