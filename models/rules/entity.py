"""Entity warning rules (主体风险预警规则): tiered conditions over an institution's or a broker's
score, declared as data; the batch scoring run warns by them (:mod:`models.rules.warn`).

The tiers and thresholds are policy: the people who run the warnings change them, so they live
in a versioned TOML file (:data:`ENTITY_RULES`, ``entity.toml``) and not in code, and a change
is tried on history and reviewed like a contract rule set (:mod:`models.rules.reviews`).
Conditions are the safe expression language of the contract rules
(:mod:`models.rules.expression`) over a fixed set of named inputs (:data:`INPUTS`): the score,
its grade, the grade of the entity's latest earlier score, and the share of its recent contracts
the anomaly model finds suspicious. A rule declares the :class:`~models.rules.tier.Tier` of the
warning it raises. The file is read like every declared file (:mod:`models.declared`): each
mistake is one line naming the file, the rule and the field. Pure: no database, no MLflow.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from models.declared import Table, items, parse, table
from models.rules.expression import Expression, ExpressionError, compile_condition
from models.rules.tier import Tier

GRADES = ("A", "B", "C", "D")  # best first; in conditions A=1 … D=4, a drop is a rise
INPUTS = ("points", "probability", "grade", "previous_grade", "grade_drop", "first_score",
          "anomaly_share", "contracts", "window_days", "anomaly_threshold")
_LETTERS = ("grade", "previous_grade")  # quoted as letters in reason texts
_TOP = ("version", "anomaly", "rule")
_RULE_FIELDS = ("code", "tier", "when", "zh", "en")
# The rule file kept in the repository: in force until a reviewer approves one (or the file
# TECHCREDIT_WARNING_RULES names, see models.rules.kinds).
ENTITY_RULES = Path(__file__).with_name("entity.toml")


@dataclass(frozen=True)
class AnomalyWindow:
    threshold: float  # a contract counts as anomalous at this probability or above
    days: int  # contracts registered in (as_of - days, as_of]


@dataclass(frozen=True)
class EntityRule:
    code: str
    tier: Tier  # of the warning it raises
    when: Expression
    zh: str  # reason templates with {input} or {input:.1%} placeholders
    en: str


@dataclass(frozen=True)
class EntityRules:
    version: int
    sha256: str  # of the file's bytes, recorded with each batch run
    source: str  # file path, or the recorded artifact it was loaded from
    anomaly: AnomalyWindow
    rules: tuple[EntityRule, ...]
    data: bytes = field(default=b"", repr=False, compare=False)  # the bytes hashed


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


def numbers(rules: EntityRules, one: WarningInputs) -> dict[str, float]:
    """The :data:`INPUTS` of one entity as the conditions read them (grades as 1 … 4)."""
    grade, previous = _rank(one.grade), _rank(one.previous_grade)
    return {
        "points": one.points, "probability": one.probability, "grade": grade,
        "previous_grade": previous, "grade_drop": grade - previous,
        "first_score": float(one.previous_grade is None),
        "anomaly_share": one.anomaly.share if one.anomaly else math.nan,
        "contracts": float(one.anomaly.contracts) if one.anomaly else 0.0,
        "window_days": float(rules.anomaly.days), "anomaly_threshold": rules.anomaly.threshold,
    }


def texts(rules: EntityRules, one: WarningInputs) -> dict[str, float | str]:
    """The values reason texts quote: the numbers, with the grades as letters."""
    values: dict[str, float | str] = dict(numbers(rules, one))
    values.update(grade=one.grade, previous_grade=one.previous_grade or "-")
    return values


def _rank(grade: str | None) -> float:
    return float(GRADES.index(grade) + 1) if grade in GRADES else math.nan


def parse_entity_rules(data: bytes, source: str) -> EntityRules:
    declared = parse(data, source, _TOP)
    window = table(declared, "anomaly", ("threshold", "window_days"))
    anomaly = AnomalyWindow(window.number("threshold", 0, 1), window.integer("window_days", 1))
    sample = EntityRules(1, "", source, anomaly, ())
    rules = tuple(_rule(code, t, sample)
                  for code, t in items(declared, "rule", "code", required=True))
    return EntityRules(declared.version, declared.sha256, source, anomaly, rules, data)


def _rule(code: str, t: Table, sample: EntityRules) -> EntityRule:
    t.known(_RULE_FIELDS)
    for name in _RULE_FIELDS[1:]:
        t.text(name)
    tier = Tier(t.choice("tier", tuple(Tier)))
    try:
        when = compile_condition(t.body["when"], (*INPUTS, *GRADES))
    except ExpressionError as e:
        raise t.fail("when", f"{e} (inputs: {', '.join(INPUTS)}; grades A-D)") from None
    values = texts(sample, WarningInputs(550.0, 0.1, "C", "B", AnomalyShare(3, 0.5)))
    for lang in ("zh", "en"):
        _check_template(t.body[lang], values, lambda m, lang=lang: t.fail(lang, m))
    return EntityRule(code, tier, when, t.body["zh"], t.body["en"])


def _check_template(text: str, sample: Mapping[str, float | str],
                    fail: Callable[[str], Exception]) -> None:
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

