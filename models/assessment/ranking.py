"""Comparable groups, normalisation within them, weighted totals and ranks.

An institution is compared with institutions like it: the same type in the same region tier
(a university office in the west is not held to a Beijing exchange's volume). A group with
fewer than ``min_group_size`` institutions cannot be compared fairly, so its members are
compared with every institution of their type, and if that is still too small, with the whole
assessed market (``all``): the comparison group of an institution is the narrowest one that is
big enough.

Normalisation turns each indicator into a 0–100 score within the comparison group.
``percentile`` (the default): the share of the rest of the group the institution does better
than, ties counted half — ``100 × (r − 1) / (m − 1)`` for the average rank ``r`` among the
``m`` known values, best = 100, worst = 0, 50 when the group cannot tell (one value, all equal).
It ignores how far apart values are, so one giant does not flatten everyone else.
``minmax``: ``100 × (v − min) / (max − min)`` (reversed for lower-is-better), 50 when all equal.
A missing value scores 0 under ``missing = "worst"`` and is left out under ``"skip"``, the
total then being the weighted mean of the scored indicators. Ranks are by total within the
group, best first; equal totals share the better rank (1, 2, 2, 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.assessment.config import AssessmentConfig, Indicator, Method
from models.assessment.texts import ALL, value_text

TOTAL_DECIMALS = 4  # totals are rounded before ranking, so float noise never splits a tie


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    value: float | None  # None: not known at the year's end
    score: float | None  # 0–100 in the group; None: left out of the total (missing, "skip")
    group_median: float | None  # of the group's known values
    median_score: float | None  # of the group's scores
    breach: bool  # the value misses the indicator's required limit
    note_zh: str
    note_en: str


@dataclass(frozen=True)
class Standing:
    institution_id: str
    name: str
    institution_type: str
    region: str
    tier: str
    report_year: int | None  # the annual report read; None: none in time
    group: str  # comparison group key: type/tier, type, or "all"
    group_size: int
    rank: int  # 1 = best of the group
    total: float  # 0–100
    indicators: tuple[IndicatorScore, ...]


def group_keys(frame: pd.DataFrame, min_size: int) -> pd.Series:
    """Each institution's comparison group: the narrowest of type/tier, type, all with at
    least ``min_size`` members (members counted over the whole frame)."""
    fine = frame["institution_type"] + "/" + frame["tier"]
    coarse = frame["institution_type"]
    big_fine = fine.map(fine.value_counts()) >= min_size
    big_coarse = coarse.map(coarse.value_counts()) >= min_size
    return pd.Series(np.where(big_fine, fine, np.where(big_coarse, coarse, ALL)),
                     index=frame.index, name="group")


def members(frame: pd.DataFrame, key: str) -> pd.Index:
    """The institutions of a comparison group (a type group holds every tier of the type)."""
    if key == ALL:
        return frame.index
    kind, _, tier = key.partition("/")
    inside = frame["institution_type"] == kind
    if tier:
        inside &= frame["tier"] == tier
    return frame.index[inside]


def normalise(values: pd.Series, ind: Indicator, method: Method) -> pd.Series:
    """Scores 0–100 of the known values (NaN stays NaN; the caller applies ``missing``)."""
    known = values.dropna().astype("float64")
    good = known if ind.direction == "higher" else -known
    out = pd.Series(np.nan, index=values.index)
    if len(known) == 0:
        return out
    if method.normalisation == "percentile":
        scores = (100 * (good.rank(method="average") - 1) / (len(good) - 1)
                  if len(good) > 1 else pd.Series(50.0, index=good.index))
    else:
        low, high = good.min(), good.max()
        scores = (100 * (good - low) / (high - low) if high > low
                  else pd.Series(50.0, index=good.index))
    out[scores.index] = scores
    return out


def breaches(value: float | None, ind: Indicator) -> bool:
    if ind.limit is None or value is None:
        return False
    return value < ind.limit if ind.direction == "higher" else value > ind.limit


def rank_groups(config: AssessmentConfig, frame: pd.DataFrame) -> list[Standing]:
    """Standings of every institution in ``frame`` (the output of ``compute_indicators``)."""
    keys = group_keys(frame, config.method.min_group_size)
    out: dict[str, Standing] = {}
    for key in sorted(set(keys)):
        population = frame.loc[members(frame, key)]
        scores, totals = _scores(config, population)
        ranks = 1 + (totals.to_numpy()[None, :] > totals.to_numpy()[:, None]).sum(axis=1)
        for i, iid in enumerate(population.index):
            if keys[iid] == key:
                out[iid] = _standing(config, population, scores, totals, iid, key, int(ranks[i]))
    return [out[i] for i in frame.index]


def _scores(config: AssessmentConfig, population: pd.DataFrame
            ) -> tuple[pd.DataFrame, pd.Series]:
    scores = pd.DataFrame(index=population.index)
    for ind in config.indicators:
        s = normalise(population[ind.code], ind, config.method)
        scores[ind.code] = s.fillna(0.0) if ind.missing == "worst" else s
    weights = pd.Series({i.code: i.weight for i in config.indicators})
    used = scores.notna().astype("float64") * weights
    total = (scores.fillna(0.0) * weights).sum(axis=1) / used.sum(axis=1).replace(0, np.nan)
    return scores, total.fillna(0.0).round(TOTAL_DECIMALS)


def _number(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)  # type: ignore[arg-type]


def _standing(config: AssessmentConfig, population: pd.DataFrame, scores: pd.DataFrame,
              totals: pd.Series, iid: str, key: str, rank: int) -> Standing:
    row = population.loc[iid]
    lines = []
    for ind in config.indicators:
        value, score = _number(row[ind.code]), _number(scores.at[iid, ind.code])
        median = _number(population[ind.code].median())
        median_score = _number(scores[ind.code].median())
        zh, en = note(ind, value, score, median, row["report_year"])
        lines.append(IndicatorScore(ind.code, value, score, median, median_score,
                                    breaches(value, ind), zh, en))
    report = row["report_year"]
    return Standing(iid, str(row["name"]), str(row["institution_type"]), str(row["region"]),
                    str(row["tier"]), None if pd.isna(report) else int(report), key,
                    len(population), rank, float(totals[iid]), tuple(lines))


def note(ind: Indicator, value: float | None, score: float | None, median: float | None,
         report_year: object) -> tuple[str, str]:
    """What one indicator says about one institution, in a few words."""
    if value is None:
        if ind.missing == "skip":
            return "无数据，不计分", "no data: left out of the total"
        if pd.isna(report_year):
            return "年末前未提交年度报告，计0分", "no annual report by the year's end: scores 0"
        return "无数据，计0分", "no data: scores 0"
    if breaches(value, ind):
        limit = value_text(ind.limit, ind, "zh"), value_text(ind.limit, ind, "en")
        word = ("低于", "below") if ind.direction == "higher" else ("高于", "above")
        return (f"{word[0]}{limit[0]}的要求", f"{word[1]} the required {limit[1]}")
    if median is None or score is None or math.isclose(value, median):
        return "与组内中位数持平", "at the group median"
    better = value > median if ind.direction == "higher" else value < median
    return ("优于组内中位数", "better than the group median") if better else \
        ("差于组内中位数", "worse than the group median")
