"""Risk warnings of the batch run (主体风险预警): tiered rules, declared as data, over a score.

The tiers (red 红, orange 橙, yellow 黄, blue 蓝) and their thresholds are policy: the people
who run the warnings change them, so they live in a versioned TOML file
(:data:`DEFAULT_WARNING_RULES`, or ``TECHCREDIT_WARNING_RULES``) and not in code. Conditions are
the safe expression language of the contract rules (:mod:`models.rules.expression`) over a
fixed set of named inputs (:data:`INPUTS`): the score, its grade, the grade of the entity's
latest earlier score, and the share of its recent contracts the anomaly model finds suspicious.
An entity gets at most one warning, of the most severe tier that fires, listing every firing
rule, so a regulator sees all the reasons at once. The tiers are those of a contract check
(:mod:`models.rules.tier`). Every mistake in the file is one line naming the file, the rule
and the field. Pure: no database, no MLflow.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models import panels
from models.rules.expression import Expression, ExpressionError, compile_condition
from models.rules.tier import Tier

GRADES = ("A", "B", "C", "D")  # best first; in conditions A=1 … D=4, a drop is a rise
INPUTS = ("points", "probability", "grade", "previous_grade", "grade_drop", "first_score",
          "anomaly_share", "contracts", "window_days", "anomaly_threshold")
_LETTERS = ("grade", "previous_grade")  # quoted as letters in reason texts
_TOP = ("version", "anomaly", "rule")
_RULE_FIELDS = ("code", "tier", "when", "zh", "en")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_WARNING_RULES = Path(__file__).with_name("warning_rules.toml")


class WarningRuleError(ValueError):
    """A warning rule file that cannot be used; one line naming file, rule and field."""


@dataclass(frozen=True)
class AnomalyWindow:
    threshold: float  # a contract counts as anomalous at this probability or above
    days: int  # contracts registered in (as_of - days, as_of]


@dataclass(frozen=True)
class WarningRule:
    code: str
    tier: Tier
    when: Expression
    zh: str  # reason templates with {input} or {input:.1%} placeholders
    en: str


@dataclass(frozen=True)
class WarningRules:
    version: int
    sha256: str  # of the file's bytes, recorded with each batch run
    source: str
    anomaly: AnomalyWindow
    rules: tuple[WarningRule, ...]


@dataclass(frozen=True)
class AnomalyShare:
    contracts: int  # the entity's contracts registered in the window
    share: float  # of them, the share at or above the anomaly threshold


@dataclass(frozen=True)
class WarningInputs:
    """What the rules of one entity read."""

    points: float
    probability: float
    grade: str
    previous_grade: str | None  # of the latest earlier score; None for a first score
    anomaly: AnomalyShare | None  # None: no contracts in the window


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


def evaluate(rules: WarningRules, inputs: Sequence[WarningInputs]) -> list[RiskAlert | None]:
    """Per entity, its warning or None; conditions run on whole columns at once."""
    rows = [_numbers(rules, one) for one in inputs]
    columns = {name: np.array([r[name] for r in rows], dtype=np.float64) for name in INPUTS}
    columns.update({g: np.full(len(inputs), float(i)) for i, g in enumerate(GRADES, 1)})
    fired = [(rule, rule.when.mask(columns)) for rule in rules.rules]
    out: list[RiskAlert | None] = []
    for i, one in enumerate(inputs):
        hits = sorted((r for r, mask in fired if mask[i]), key=lambda r: r.tier, reverse=True)
        if not hits:
            out.append(None)
            continue
        values = _texts(rules, one)
        out.append(RiskAlert(hits[0].tier, tuple(r.code for r in hits),
                             tuple(r.zh.format(**values) for r in hits),
                             tuple(r.en.format(**values) for r in hits)))
    return out


def _rank(grade: str | None) -> float:
    return float(GRADES.index(grade) + 1) if grade in GRADES else math.nan


def _numbers(rules: WarningRules, one: WarningInputs) -> dict[str, float]:
    grade, previous = _rank(one.grade), _rank(one.previous_grade)
    return {
        "points": one.points, "probability": one.probability, "grade": grade,
        "previous_grade": previous, "grade_drop": grade - previous,
        "first_score": float(one.previous_grade is None),
        "anomaly_share": one.anomaly.share if one.anomaly else math.nan,
        "contracts": float(one.anomaly.contracts) if one.anomaly else 0.0,
        "window_days": float(rules.anomaly.days), "anomaly_threshold": rules.anomaly.threshold,
    }


def _texts(rules: WarningRules, one: WarningInputs) -> dict[str, float | str]:
    values: dict[str, float | str] = dict(_numbers(rules, one))
    values.update(grade=one.grade, previous_grade=one.previous_grade or "-")
    return values


def load_warning_rules(path: Path | None = None) -> WarningRules:
    """The rules in ``path``, or the defaults kept beside this module."""
    path = path or DEFAULT_WARNING_RULES
    try:
        data = path.read_bytes()
    except OSError as e:
        raise WarningRuleError(f"{path}: cannot read: {e.strerror}") from None
    return parse_warning_rules(data, str(path))


def parse_warning_rules(data: bytes, source: str) -> WarningRules:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise WarningRuleError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise WarningRuleError(f"{source}: not valid TOML: {str(e).splitlines()[0]}") from None
    extra = sorted(set(doc) - set(_TOP))
    if extra:
        raise WarningRuleError(f"{source}: unknown top-level key {extra[0]!r} (expected "
                               f"{', '.join(_TOP)})")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise WarningRuleError(f"{source}: version: must be an integer >= 1, got {version!r}")
    anomaly = _anomaly(doc.get("anomaly"), f"{source}: anomaly")
    tables = doc.get("rule", [])
    if not isinstance(tables, list) or not tables:
        raise WarningRuleError(f"{source}: rule: write at least one rule as a [[rule]] table")
    rules: list[WarningRule] = []
    for i, t in enumerate(tables):
        rule = _rule(t, source, i + 1, anomaly)
        if any(r.code == rule.code for r in rules):
            raise WarningRuleError(f"{source}: rule {rule.code!r}: code: duplicate code")
        rules.append(rule)
    return WarningRules(version, hashlib.sha256(data).hexdigest(), source, anomaly, tuple(rules))


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise WarningRuleError(f"{where}: must be a number from 0 to 1, got {value!r}")
    return float(value)


def _anomaly(t: Any, where: str) -> AnomalyWindow:
    if not isinstance(t, dict):
        raise WarningRuleError(f"{where}: required table [anomaly] with threshold, window_days")
    extra = sorted(set(t) - {"threshold", "window_days"})
    if extra:
        raise WarningRuleError(f"{where}: {extra[0]}: unknown field (expected threshold, "
                               "window_days)")
    days = t.get("window_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise WarningRuleError(f"{where}: window_days: must be an integer >= 1, got {days!r}")
    return AnomalyWindow(_fraction(t.get("threshold"), f"{where}: threshold"), days)


def _rule(t: Any, source: str, n: int, anomaly: AnomalyWindow) -> WarningRule:
    if not isinstance(t, dict):
        raise WarningRuleError(f"{source}: rule #{n}: not a table")
    code = t.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise WarningRuleError(f"{source}: rule #{n}: code: must be snake_case text, "
                               f"got {code!r}")

    def fail(name: str, message: str) -> WarningRuleError:
        return WarningRuleError(f"{source}: rule {code!r}: {name}: {message}")

    unknown = sorted(set(t) - set(_RULE_FIELDS))
    if unknown:
        raise fail(unknown[0], f"unknown field (expected {', '.join(_RULE_FIELDS)})")
    for name in _RULE_FIELDS[1:]:
        if not isinstance(t.get(name), str) or not t[name].strip():
            raise fail(name, "required text")
    if t["tier"] not in tuple(Tier):
        raise fail("tier", f"{t['tier']!r} is not one of {', '.join(Tier)}")
    try:
        when = compile_condition(t["when"], (*INPUTS, *GRADES))
    except ExpressionError as e:
        raise fail("when", f"{e} (inputs: {', '.join(INPUTS)}; grades A-D)") from None
    sample = WarningInputs(550.0, 0.1, "C", "B", AnomalyShare(3, 0.5))
    rules = WarningRules(1, "", source, anomaly, ())
    for lang in ("zh", "en"):
        _check_template(t[lang], _texts(rules, sample), lambda m, lang=lang: fail(lang, m))
    return WarningRule(code, Tier(t["tier"]), when, t["zh"], t["en"])


def _check_template(text: str, sample: Mapping[str, float | str], fail: Any) -> None:
    """Placeholders must name inputs and format them: tried on sample values now, not at 3 a.m.
    in the batch run."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise fail(f"bad placeholder: {e}") from None
    for name in names:
        if name not in sample:
            raise fail(f"placeholder {{{name}}} is not an input ({', '.join(INPUTS)})")
    try:
        text.format(**sample)
    except (ValueError, TypeError, IndexError, KeyError) as e:
        hint = " (grade and previous_grade are letters)" if any(
            n in _LETTERS for n in names) else ""
        raise fail(f"cannot format: {e}{hint}") from None
