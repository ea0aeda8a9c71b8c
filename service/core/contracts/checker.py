"""The real-time contract check (合同实时核查): features from the contract ledger, the anomaly
model's probability and reasons, the approved rules' hits, a tier; then the contract joins the
state so the next registration of its parties sees it.

The state is :class:`~features.point_in_time.online.OnlineState` at the store's last day, so a
check equals the batch features of a contract registered next. Windowed rules count earlier
qualifying contracts, so their :class:`~models.rules.online.RuleState` is warmed by replaying
the last window of registrations through a second online state (status changes and conduct
records inside that window are not replayed into the warm-up's features: a rule that reads
them may miss a hit in the first window after start-up). Not thread-safe: the service calls it
from its event loop only, which also orders registrations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.point_in_time.history import History, day_of
from features.point_in_time.online import OnlineState
from models.reasons import Reason
from models.risk_model import RiskModel
from models.rules.contract import ContractRules
from models.rules.contract_tier import TierBands, contract_tier
from models.rules.evaluate import Hit
from models.rules.online import RuleState
from models.rules.tier import Tier
from models.scoring import TOP_REASONS, ModelRef, records

if TYPE_CHECKING:
    from service.core.champions.holder import Loaded


@dataclass(frozen=True)
class CheckResult:
    contract_id: str
    registered_date: date
    probability: float  # calibrated probability that the contract is found false
    tier: Tier | None  # None: no warning
    reasons: tuple[Reason, ...]
    hits: tuple[Hit, ...]
    model: ModelRef
    registered: bool  # the contract joined the state (False: a dry run, or already known)
    institution_id: str | None
    broker_id: str | None
    region: str | None  # the seller's province


class ContractChecker:
    """See the module docstring."""

    def __init__(self, h: History, contracts: pd.DataFrame, ruleset: ContractRules | None,
                 bands: TierBands) -> None:
        self.bands = bands
        self.ruleset = ruleset
        self.as_of = h.last_day
        self.state = OnlineState(h, self.as_of)
        self.known: set[str] = set(contracts["contract_id"].astype("str"))
        self.rules = RuleState(ruleset) if ruleset is not None else None
        if self.rules is not None:
            self._warm(h, contracts)

    def _warm(self, h: History, contracts: pd.DataFrame) -> None:
        assert self.rules is not None
        windows = [r.window.days for r in self.rules.rules if r.window is not None]
        if not windows:
            return
        start = self.as_of - max(windows)
        warm = OnlineState(h, start)
        reg = np.array([day_of(d) for d in pd.to_datetime(contracts["registered_date"])])
        recent = contracts[(reg > start) & (reg <= self.as_of)]
        recent = recent.sort_values(["registered_date", "contract_id"], kind="stable")
        for record in records(recent):
            features = warm.features(record)
            self.rules.register(record, features)
            warm.register(record, features)

    def check(self, model: RiskModel, ref: ModelRef, record: Mapping[str, Any],
              register: bool = True) -> CheckResult:
        """``record`` has the standard's contract columns, dates as Timestamps; a contract
        already in the state is answered but not registered twice."""
        return self.score(model, ref, [self.prepare(record, register)])[0]

    def prepare(self, record: Mapping[str, Any], register: bool = True) -> Pending:
        """The state's part of a check, in arrival order: features, rule hits, and the
        registration; the model's part (:meth:`score`) may follow for several at once."""
        features = self.state.features(record)
        hits = tuple(self.rules.check(record, features)) if self.rules is not None else ()
        contract_id = str(record["contract_id"])
        joins = register and contract_id not in self.known
        if joins:
            self.state.register(record, features)
            if self.rules is not None:
                self.rules.register(record, features)
            self.known.add(contract_id)
        return Pending(record, features, hits, joins)

    def score(self, model: RiskModel, ref: ModelRef, pending: Sequence[Pending]
              ) -> list[CheckResult]:
        """One prediction with reasons for all of ``pending`` (rows are scored independently:
        the same answers as one at a time)."""
        x = np.vstack([model.encoder.row({**p.record, **p.features}) for p in pending])
        s = model.score_matrix(x, top=TOP_REASONS)
        out = []
        for i, p in enumerate(pending):
            probability = float(s.pd[i])
            r = p.record
            out.append(CheckResult(
                str(r["contract_id"]), pd.Timestamp(r["registered_date"]).date(), probability,
                contract_tier(self.bands, probability, p.hits), tuple(s.reasons[i]), p.hits,
                ref, p.registered, _opt(r.get("institution_id")), _opt(r.get("broker_id")),
                _opt(r.get("seller_region"))))
        return out


@dataclass(frozen=True)
class Pending:
    """A contract through the state (features, rule hits, registered or not), not scored."""

    record: Mapping[str, Any]
    features: dict[str, float]
    hits: tuple[Hit, ...]
    registered: bool


# A check prepared by a request, waiting for the model: the ledger and the models it was
# prepared under travel with it, so a swap between two requests never mixes them.
CheckItem = tuple[ContractChecker, "Loaded", Pending]


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)
