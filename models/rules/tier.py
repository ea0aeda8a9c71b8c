"""The warning tier (预警等级: 红/橙/黄/蓝), the one scale of every warning and every rule.

A contract check answers with a tier, a rule declares the tier its hit vouches for, an entity
warning carries the most severe tier among its rules. One scale keeps them comparable: a rule
hit can raise a contract's tier to its own, never lower what the model said, and an officer
reads the same four words everywhere. Members compare by severity (``Tier.red > Tier.blue``,
so ``max`` is the most severe), not alphabetically; they are also their own text values, so
they are stored, printed and sent as ``"red"``, ``"orange"``, ``"yellow"``, ``"blue"``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Tier(StrEnum):
    """Declared most severe first, the order in which warnings are listed (``list(Tier)``)."""

    red = "red"
    orange = "orange"
    yellow = "yellow"
    blue = "blue"

    @property
    def severity(self) -> int:
        """3 for red down to 0 for blue."""
        return _SEVERITY[self]

    @property
    def zh(self) -> str:
        return _ZH[self]

    def __lt__(self, other: Any) -> bool:
        return self.severity < Tier(other).severity

    def __le__(self, other: Any) -> bool:
        return self.severity <= Tier(other).severity

    def __gt__(self, other: Any) -> bool:
        return self.severity > Tier(other).severity

    def __ge__(self, other: Any) -> bool:
        return self.severity >= Tier(other).severity


_SEVERITY = {Tier.red: 3, Tier.orange: 2, Tier.yellow: 1, Tier.blue: 0}
_ZH = {Tier.red: "红色", Tier.orange: "橙色", Tier.yellow: "黄色", Tier.blue: "蓝色"}
