"""Contract rules in the real-time check (实时校验): one new contract at registration.

:class:`RuleState` mirrors :class:`features.point_in_time.online.OnlineState`: :meth:`check`
a contract with the features computed for it, then :meth:`register` it. For windowed rules
it keeps, per rule and party, the registration days of the recent contracts that met the
condition (a deque, oldest first), which is all the batch count in
:func:`models.rules.evaluate.window_counts` needs; a test proves both give the same hits.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from models.rules.contract import ContractRule, ContractRules
from models.rules.evaluate import Hit


class RuleState:
    """Recent qualifying days per windowed rule and party; see the module docstring."""

    def __init__(self, ruleset: ContractRules) -> None:
        self.ruleset = ruleset
        self.rules: tuple[ContractRule, ...] = ruleset.of("contract")
        self.days: dict[str, defaultdict[str, deque[int]]] = {
            r.id: defaultdict(deque) for r in self.rules if r.window is not None
        }

    def check(self, contract: Mapping[str, Any], features: Mapping[str, float]) -> list[Hit]:
        """The rules this contract hits, counting itself but not yet registering it."""
        day = _day(contract["registered_date"])
        hits = []
        for rule in self.rules:
            if not rule.when.test(features):
                continue
            if rule.window is not None:
                key = _key(contract.get(rule.window.key))
                if key is None:
                    continue
                if self._recent(rule.id, key, day - rule.window.days) + 1 < rule.window.min_hits:
                    continue
            zh, en = rule.reasons(features)
            hits.append(Hit(rule.id, rule.tier, zh, en, str(contract["contract_id"])))
        return hits

    def register(self, contract: Mapping[str, Any], features: Mapping[str, float]) -> None:
        """Follow the register: remember the contract for the windowed rules it qualifies for.

        Contracts arrive in registration order, so days only grow and old ones drop off the
        left of each deque.
        """
        day = _day(contract["registered_date"])
        for rule in self.rules:
            if rule.window is None or not rule.when.test(features):
                continue
            key = _key(contract.get(rule.window.key))
            if key is None:
                continue
            q = self.days[rule.id][key]
            q.append(day)
            while q and q[0] <= day - rule.window.days:
                q.popleft()

    def _recent(self, rule_id: str, key: str, after: int) -> int:
        """Qualifying contracts of ``key`` registered on a day later than ``after``."""
        q = self.days[rule_id].get(key, ())
        old = 0
        for d in q:  # oldest first: stop at the first day inside the window
            if d > after:
                break
            old += 1
        return len(q) - old


def _day(value: Any) -> int:
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def _key(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)
