"""Contract rules (合同规则): conditions over declared features, checked at registration.

Declared in :data:`CONTRACT_RULES` (``contract.toml``), TOML, versioned::

    version = 3

    [[rule]]
    id = "threshold_repeat"
    entity = "contract"                 # contract | institution | broker
    when = "ctr_just_above_threshold == 1"
    tier = "yellow"                     # red | orange | yellow | blue (models.rules.tier)
    zh = "卖方90天内多次略高于补贴门槛"
    en = "seller repeatedly just above a subsidy threshold ({ctr_log_amount:.1f})"
    per = "seller"                      # window, contract rules only: seller | buyer | broker |
    window_days = 90                    #   institution; fires when at least min_hits contracts
    min_hits = 3                        #   of that party met `when` in (d - window_days, d]

A contract rule's hit raises the contract's tier to the rule's (never lowers it) in the
real-time check and is ranked by its measured precision in the review lists. The file may also
hold rules over institution or broker features (``entity = "institution"``): they are tried
and reviewed with the contract rules, and nothing acts on them yet. The warnings of the batch
run over a score are the other kind, :mod:`models.rules.entity`. The file is read like every
declared file (:mod:`models.declared`): each mistake is one line naming the file, the rule and
the field, because the people who write rules are analysts reading a terminal. The set carries
the sha256 of the file's bytes: tries and reviews are recorded against exactly those bytes.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from features.point_in_time.catalogue import ENTITIES, Entity, names_of
from models.declared import Table, items, parse
from models.rules.expression import Expression, ExpressionError, compile_condition
from models.rules.tier import Tier

PER_KEYS = ("seller", "buyer", "broker", "institution")
_WINDOW_FIELDS = ("per", "window_days", "min_hits")
_FIELDS = ("id", "entity", "when", "tier", "zh", "en", *_WINDOW_FIELDS)
# The rule file kept in the repository: in force until a reviewer approves one.
CONTRACT_RULES = Path(__file__).with_name("contract.toml")


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
class ContractRule:
    id: str
    entity: Entity
    when: Expression
    tier: Tier  # what a hit vouches for
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
class ContractRules:
    version: int
    sha256: str  # of the file's bytes
    rules: tuple[ContractRule, ...]
    source: str  # file path, or the recorded artifact it was loaded from
    data: bytes = field(default=b"", repr=False, compare=False)  # the bytes hashed

    def of(self, entity: Entity) -> tuple[ContractRule, ...]:
        return tuple(r for r in self.rules if r.entity == entity)


def rule_days(ruleset: ContractRules | None) -> int:
    """How many days back the contract rules count (0: none counts): what warming their
    state must replay."""
    if ruleset is None:
        return 0
    return max((r.window.days for r in ruleset.of("contract") if r.window is not None),
               default=0)


def parse_contract_rules(data: bytes, source: str) -> ContractRules:
    declared = parse(data, source, ("version", "rule"))
    rules = tuple(_rule(rid, t) for rid, t in items(declared, "rule", "id", required=False))
    return ContractRules(declared.version, declared.sha256, rules, source, data)


def _rule(rid: str, t: Table) -> ContractRule:
    t.known(_FIELDS)
    for name in ("entity", "when", "tier", "zh", "en"):
        t.text(name)
    entity = t.body["entity"]
    if entity not in ENTITIES:
        raise t.fail("entity", f"unknown entity {entity!r} (expected {', '.join(ENTITIES)})")
    declared = names_of(cast(Entity, entity))
    try:
        when = compile_condition(t.body["when"], declared)
    except ExpressionError as e:
        raise t.fail("when", f"{e} (features of a {entity} rule: {declared[0]}, …)") from None
    tier = Tier(t.choice("tier", tuple(Tier)))
    for lang in ("zh", "en"):
        _check_template(t, lang, declared)
    return ContractRule(rid, cast(Entity, entity), when, tier, t.body["zh"], t.body["en"],
                        _window(t, entity))


def _window(t: Table, entity: str) -> Window | None:
    given = [f for f in _WINDOW_FIELDS if f in t.body]
    if not given:
        return None
    if entity != "contract":
        raise t.fail(given[0], f"a {entity} rule takes no window: its features carry their own")
    missing = [f for f in _WINDOW_FIELDS if f not in t.body]
    if missing:
        raise t.fail(missing[0], "a window needs per, window_days and min_hits together")
    return Window(t.choice("per", PER_KEYS), t.integer("window_days", 1),
                  t.integer("min_hits", 1))


def _placeholders(text: str) -> tuple[str, ...]:
    return tuple(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)


def _check_template(t: Table, lang: str, declared: list[str]) -> None:
    text = t.body[lang]
    try:
        names = _placeholders(text)
    except ValueError as e:
        raise t.fail(lang, f"bad placeholder: {e}") from None
    for name in names:
        if name not in declared:
            raise t.fail(lang, f"placeholder {{{name}}} names no feature of this entity")
    try:
        text.format(**dict.fromkeys(names, 1.0))
    except (ValueError, KeyError, IndexError) as e:
        raise t.fail(lang, f"bad placeholder format: {e}") from None


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
