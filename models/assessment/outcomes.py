"""Proposed outcomes (pass, warning, exit) with the reasons, indicator by indicator.

The rules (动态管理、优胜劣汰): an institution *fails* when its total is below the pass mark,
when it is in the bottom share of its group (if the method sets one), or when a value misses a
required limit (e.g. under 70% of staff trained). A first failure is a ``warning``; a failure
while warned (by last year's assessment or the register) is an ``exit``. A listed dishonesty
case (列入失信名单) is an exit whatever the indicators say, and so is a place inside the bottom
quota the regulator sets: the ``quota`` lowest totals of the whole assessment (totals are
within-group scores, so comparable across groups; ties go to the worse place in its group, then
the id). Each outcome names its basis and the indicators that pulled the total down most —
weight × how far the score lies below the group's median score. These are proposals: the
assessors adjust, publish and decide appeals (``service.core.assessments``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from models.assessment.config import AssessmentConfig, Indicator
from models.assessment.ranking import IndicatorScore, Standing, rank_groups
from models.assessment.texts import group_name, value_text

Outcome = Literal["pass", "warning", "exit"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "warning", "exit")


@dataclass(frozen=True)
class InstitutionResult:
    standing: Standing
    failed: bool
    outcome: Outcome
    basis: tuple[str, ...]
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    year: int
    config_version: int
    config_sha256: str
    quota: int
    results: tuple[InstitutionResult, ...]

    def counts(self) -> dict[str, int]:
        seen = Counter(r.outcome for r in self.results)
        return {o: seen[o] for o in OUTCOMES}


def assess(config: AssessmentConfig, frame: pd.DataFrame, year: int, warned: Collection[str],
           listed: Collection[str], quota: int = 0) -> Assessment:
    """The proposed outcome of every institution of ``frame`` (``compute_indicators``)."""
    standings = rank_groups(config, frame)
    results = decide_outcomes(config, standings, warned, listed, quota)
    return Assessment(year, config.version, config.sha256, quota, tuple(results))


def failures(config: AssessmentConfig, s: Standing) -> list[str]:
    """The failed tests of one standing (empty: it passes on the indicators)."""
    m, out = config.method, []
    if s.total < m.fail_below:
        out.append("below_pass_mark")
    if m.fail_bottom_share > 0 and s.rank > s.group_size - math.ceil(
            m.fail_bottom_share * s.group_size):
        out.append("bottom_share")
    out += [f"limit:{i.code}" for i in s.indicators if i.breach]
    return out


def bottom(standings: Sequence[Standing], quota: int) -> set[str]:
    """The ``quota`` lowest totals of the assessment."""
    order = sorted(standings, key=lambda s: (s.total, -s.rank / s.group_size, s.institution_id))
    return {s.institution_id for s in order[:max(quota, 0)]}


def decide_outcomes(config: AssessmentConfig, standings: Sequence[Standing],
                    warned: Collection[str], listed: Collection[str], quota: int = 0
                    ) -> list[InstitutionResult]:
    """``warned``: institutions under a warning when the year ends; ``listed``: those with a
    listed dishonesty case by then; ``quota``: how many of the lowest totals exit."""
    in_quota = bottom(standings, quota)
    out = []
    for s in standings:
        failed = failures(config, s)
        basis = ((["listed_case"] if s.institution_id in listed else [])
                 + (["quota"] if s.institution_id in in_quota else [])
                 + (["after_warning"] if failed and s.institution_id in warned else [])
                 + failed)
        outcome: Outcome = ("exit" if {"listed_case", "quota", "after_warning"} & set(basis)
                            else "warning" if failed else "pass")
        zh, en = reasons(config, s, outcome, basis, len(standings), quota)
        out.append(InstitutionResult(s, bool(failed), outcome, tuple(basis), zh, en))
    return out


def weakest(config: AssessmentConfig, s: Standing) -> list[tuple[Indicator, IndicatorScore]]:
    """The indicators that pulled the total down most against the group median, worst first
    (a missed limit is named by its own reason, not again here)."""
    gaps = []
    for ind, line in zip(config.indicators, s.indicators, strict=True):
        if line.score is None or line.breach:
            continue
        gap = (line.median_score or 0.0) - line.score
        if gap > 0:
            gaps.append((ind.weight * gap, ind, line))
    gaps.sort(key=lambda g: -g[0])
    return [(ind, line) for _, ind, line in gaps[:config.method.reasons]]


def reasons(config: AssessmentConfig, s: Standing, outcome: Outcome, basis: Sequence[str],
            assessed: int, quota: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The lead line per basis, then the weakest indicators (for a warning or an exit)."""
    g = group_name(config, s.group, "zh"), group_name(config, s.group, "en")
    place = (f"{g[0]}组第{s.rank}/{s.group_size}名", f"rank {s.rank} of {s.group_size} in {g[1]}")
    if outcome == "pass":
        return ((f"综合得分{s.total:.1f}，合格（{place[0]}）",),
                (f"total {s.total:.1f}: pass ({place[1]})",))
    lines: list[tuple[str, str]] = []
    by_code = {i.code: (i, line) for i, line in zip(config.indicators, s.indicators,
                                                      strict=True)}
    for b in basis:
        if b == "listed_case":
            lines.append(("已列入失信名单（失信案件已列入），予以退出",
                          "on the dishonesty list (a listed case): exit"))
        elif b == "quota":
            lines.append((f"位于监管部门设定的末位淘汰名额内（名额{quota}家，共{assessed}家）",
                          f"inside the regulator's bottom quota ({quota} of {assessed} "
                          "institutions)"))
        elif b == "after_warning":
            lines.append(("已受警告，本年度考核仍不合格，予以退出",
                          "failed again while under a warning: exit"))
        elif b == "below_pass_mark":
            mark = config.method.fail_below
            lines.append((f"综合得分{s.total:.1f}，低于合格线{mark:g}（{place[0]}）",
                          f"total {s.total:.1f} is below the pass mark {mark:g} ({place[1]})"))
        elif b == "bottom_share":
            share = config.method.fail_bottom_share
            lines.append((f"位于本组末位{share:.0%}（{place[0]}）",
                          f"in the bottom {share:.0%} of its group ({place[1]})"))
        else:
            ind, line = by_code[b.partition(":")[2]]
            lines.append((f"{ind.name_zh}{value_text(line.value, ind, 'zh')}，{line.note_zh}",
                          f"{ind.name_en} {value_text(line.value, ind, 'en')}: {line.note_en}"))
    for ind, line in weakest(config, s):
        lines.append(indicator_reason(ind, line))
    return tuple(z for z, _ in lines), tuple(e for _, e in lines)


def indicator_reason(ind: Indicator, line: IndicatorScore) -> tuple[str, str]:
    """``登记促成合同数：12件，组内中位数85件（得分10/100）``, or why the value is missing."""
    score = f"{line.score:.0f}"
    if line.value is None:
        return (f"{ind.name_zh}：{line.note_zh}", f"{ind.name_en}: {line.note_en}")
    return (f"{ind.name_zh}：{value_text(line.value, ind, 'zh')}，组内中位数"
            f"{value_text(line.group_median, ind, 'zh')}（得分{score}/100）",
            f"{ind.name_en}: {value_text(line.value, ind, 'en')} against a group median of "
            f"{value_text(line.group_median, ind, 'en')} (score {score}/100)")
