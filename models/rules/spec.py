"""The rule file (规则文件): TOML, versioned, read into typed, validated rules.

::

    version = 3

    [[rule]]
    id = "threshold_repeat"
    entity = "contract"                 # contract | institution | broker
    when = "ctr_just_above_threshold == 1"
    severity = "medium"                 # low | medium | high
    zh = "卖方90天内多次略高于补贴门槛"
    en = "seller repeatedly just above a subsidy threshold ({ctr_log_amount:.1f})"
    per = "seller"                      # window, contract rules only: seller | buyer | broker |
    window_days = 90                    #   institution; fires when at least min_hits contracts
    min_hits = 3                        #   of that party met `when` in (d - window_days, d]

Every mistake is reported in one line naming the file, the rule and the field, because the
people who write rules are analysts reading a terminal, not a traceback. The set carries the
sha256 of the file's bytes: tries and reviews are recorded against exactly those bytes.
"""

from __future__ import annotations

import hashlib
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from features.point_in_time.catalogue import ENTITIES, Entity, names_of
from models.rules.expression import Expression, ExpressionError, compile_condition

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")  # ascending
PER_KEYS = ("seller", "buyer", "broker", "institution")
_WINDOW_FIELDS = ("per", "window_days", "min_hits")
_FIELDS = ("id", "entity", "when", "severity", "zh", "en", *_WINDOW_FIELDS)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


# The rule file kept in the repository: in force until a reviewer approves one.
DEFAULT_RULES = Path(__file__).with_name("default.toml")

class RuleError(ValueError):
    """A rule file that cannot be used; the message is one line naming file, rule and field."""


@dataclass(frozen=True)
class Window:
    """Fire only when ``min_hits`` contracts of one party met the condition in the window."""

    per: str  # seller | buyer | broker | institution
    days: int
    min_hits: int

    @property
    def key(self) -> str:
        """The contract column that identifies the party counted."""
        return f"{self.per}_id"


@dataclass(frozen=True)
class Rule:
    id: str
    entity: Entity
    when: Expression
    severity: Severity
    zh: str  # reason templates, ``{feature}`` or ``{feature:.1f}`` placeholders
    en: str
    window: Window | None = None

    @property
    def reason_names(self) -> tuple[str, ...]:
        """Features the reason texts quote."""
        return tuple(dict.fromkeys(_placeholders(self.zh) + _placeholders(self.en)))

    def reasons(self, values: Mapping[str, Any]) -> tuple[str, str]:
        """The Chinese and English reason, formatted with one row's values."""
        row = {n: _float(values.get(n)) for n in self.reason_names}
        return self.zh.format(**row), self.en.format(**row)


@dataclass(frozen=True)
class RuleSet:
    version: int
    sha256: str  # of the file's bytes
    rules: tuple[Rule, ...]
    source: str  # file path, or the recorded artifact it was loaded from
    data: bytes = field(default=b"", repr=False, compare=False)  # the bytes hashed

    def of(self, entity: Entity) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.entity == entity)

    def features(self, entity: Entity) -> tuple[str, ...]:
        """Every feature the entity's rules read, in conditions or reasons."""
        names = [n for r in self.of(entity) for n in (*r.when.names, *r.reason_names)]
        return tuple(dict.fromkeys(names))


def load_rules(path: Path) -> RuleSet:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RuleError(f"{path}: cannot read: {e.strerror}") from None
    return parse_rules(data, str(path))


def parse_rules(data: bytes, source: str) -> RuleSet:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise RuleError(f"{source}: not valid TOML: {_line(str(e))}") from None
    extra = sorted(set(doc) - {"version", "rule"})
    if extra:
        raise RuleError(f"{source}: unknown top-level key {extra[0]!r} (expected version, "
                        "[[rule]])")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RuleError(f"{source}: version: must be an integer >= 1, got {version!r}")
    tables = doc.get("rule", [])
    if not isinstance(tables, list):
        raise RuleError(f"{source}: rule: write rules as [[rule]] tables")
    rules: list[Rule] = []
    for i, t in enumerate(tables):
        rule = _rule(t, f"{source}: rule #{i + 1}", source)
        if any(r.id == rule.id for r in rules):
            raise RuleError(f"{source}: rule {rule.id!r}: id: duplicate id")
        rules.append(rule)
    return RuleSet(version, hashlib.sha256(data).hexdigest(), tuple(rules), source, data)


def _rule(t: Any, where: str, source: str) -> Rule:
    if not isinstance(t, dict):
        raise RuleError(f"{where}: not a table")
    rid = t.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise RuleError(f"{where}: id: must be snake_case text, got {rid!r}")
    where = f"{source}: rule {rid!r}"

    def fail(name: str, message: str) -> RuleError:
        return RuleError(f"{where}: {name}: {message}")

    unknown = sorted(set(t) - set(_FIELDS))
    if unknown:
        raise fail(unknown[0], f"unknown field (expected {', '.join(_FIELDS)})")
    for name in ("entity", "when", "severity", "zh", "en"):
        if not isinstance(t.get(name), str) or not t[name].strip():
            raise fail(name, "required text")
    entity = t["entity"]
    if entity not in ENTITIES:
        raise fail("entity", f"unknown entity {entity!r} (expected {', '.join(ENTITIES)})")
    declared = names_of(cast(Entity, entity))
    try:
        when = compile_condition(t["when"], declared)
    except ExpressionError as e:
        raise fail("when", f"{e} (features of a {entity} rule: {declared[0]}, …)") from None
    if t["severity"] not in SEVERITIES:
        raise fail("severity", f"{t['severity']!r} is not one of {', '.join(SEVERITIES)}")
    for lang in ("zh", "en"):
        _check_template(t[lang], declared, fail, lang)
    return Rule(rid, cast(Entity, entity), when, cast(Severity, t["severity"]), t["zh"], t["en"],
                _window(t, entity, fail))


def _window(t: dict, entity: str, fail: Any) -> Window | None:
    given = [f for f in _WINDOW_FIELDS if f in t]
    if not given:
        return None
    if entity != "contract":
        raise fail(given[0], f"a {entity} rule takes no window: its features carry their own")
    missing = [f for f in _WINDOW_FIELDS if f not in t]
    if missing:
        raise fail(missing[0], "a window needs per, window_days and min_hits together")
    if t["per"] not in PER_KEYS:
        raise fail("per", f"{t['per']!r} is not one of {', '.join(PER_KEYS)}")
    for name, least in (("window_days", 1), ("min_hits", 1)):
        v = t[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise fail(name, f"must be an integer >= {least}, got {v!r}")
    return Window(t["per"], t["window_days"], t["min_hits"])


def _placeholders(text: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)


def _check_template(text: str, declared: list[str], fail: Any, lang: str) -> None:
    try:
        names = _placeholders(text)
    except ValueError as e:
        raise fail(lang, f"bad placeholder: {e}") from None
    for name in names:
        if name not in declared:
            raise fail(lang, f"placeholder {{{name}}} names no feature of this entity")
    try:
        text.format(**dict.fromkeys(names, 1.0))
    except (ValueError, KeyError, IndexError) as e:
        raise fail(lang, f"bad placeholder format: {e}") from None


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _line(text: str) -> str:
    return " ".join(text.split())
