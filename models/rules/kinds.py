"""The two kinds of rule (规则种类), each declared in its own file of this package.

* **contract** (:mod:`models.rules.contract`, ``contract.toml``): conditions over the declared
  features; the real-time check raises a contract's tier by their hits and the review lists
  rank by their measured precision.
* **entity** (:mod:`models.rules.entity`, ``entity.toml``): conditions over an institution's or
  a broker's score; the batch scoring run warns by them.

Both are tried on history and reviewed in MLflow (:mod:`models.rules.reviews`), each kind on its
own: an approval of one never replaces the other's rule set in force. Before the first approval
of a kind, what runs is the repository's file of that kind, or for entity rules the file that
``TECHCREDIT_WARNING_RULES`` names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from features.settings import Settings
from models.rules.contract import CONTRACT_RULES, ContractRules, parse_contract_rules
from models.rules.entity import ENTITY_RULES, EntityRules, parse_entity_rules

KindName = Literal["contract", "entity"]


class RuleFile(Protocol):
    """What the reviews need of a parsed rule file of any kind."""

    @property
    def version(self) -> int: ...

    @property
    def sha256(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def data(self) -> bytes: ...


R = TypeVar("R", bound=RuleFile)


@dataclass(frozen=True)
class RuleKind(Generic[R]):
    name: KindName
    file: Path  # the file kept in the repository
    parse: Callable[[bytes, str], R]
    setting: Callable[[Settings], Path | None]  # another file named in the settings, if any

    def before_approval(self, settings: Settings) -> Path:
        """The file in force until a rule set of this kind is approved."""
        return self.setting(settings) or self.file


CONTRACT: RuleKind[ContractRules] = RuleKind(
    "contract", CONTRACT_RULES, parse_contract_rules, lambda settings: None)
ENTITY: RuleKind[EntityRules] = RuleKind(
    "entity", ENTITY_RULES, parse_entity_rules, lambda settings: settings.warnings.rules)
KINDS: dict[KindName, RuleKind[Any]] = {k.name: k for k in (CONTRACT, ENTITY)}
