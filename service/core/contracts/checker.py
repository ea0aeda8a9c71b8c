"""The real-time contract check (合同实时核查): features from the contract ledger, the anomaly
model's probability and reasons, the approved rules' hits, a tier; then the contract joins the
state so the next registration of its parties sees it.

The state is :class:`~features.point_in_time.online.OnlineState` at the store's last day
(loaded from a snapshot, :mod:`service.core.contracts.stored`), so a check equals the batch
features of a contract registered next. Windowed rules count earlier qualifying contracts,
so their :class:`~models.rules.online.RuleState` is warmed from the features the snapshot kept
of the last window's contracts.

A contract joins the state when it is prepared, so the next one, of the same request or
another, sees it; the caller then journals the check and :meth:`ContractChecker.settled`
says how that went. One that failed is taken back: the state cannot undo a registration
(the flow network has no inverse), so the checker loads its snapshot again (``restore``, in
a worker thread) and registers once more, in their order, the contracts checked since
(not the failed ones). Checks answered while it loads saw the failed contract. Not
thread-safe: the service calls it from its event loop only, which also orders registrations.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.point_in_time.history import days
from models.reasons import Reason
from models.risk_model import RiskModel
from models.rules.contract import ContractRules, rule_days
from models.rules.contract_tier import TierBands, contract_tier
from models.rules.evaluate import Hit
from models.rules.online import RuleState
from models.rules.tier import Tier
from models.scoring import TOP_REASONS, ModelRef, records
from service.core.contracts.snapshot import LedgerSnapshot

if TYPE_CHECKING:
    from service.core.champions.holder import Loaded

log = logging.getLogger("techcredit.service")


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

    def __init__(self, snapshot: LedgerSnapshot, ruleset: ContractRules | None,
                 bands: TierBands, restore: Callable[[], LedgerSnapshot] | None = None) -> None:
        self.bands = bands
        self.ruleset = ruleset
        self.restore = restore
        self._take(snapshot)
        self.joined: list[Mapping[str, Any]] = []  # registered since the snapshot, in order

    def _take(self, snapshot: LedgerSnapshot) -> None:
        self.as_of = snapshot.as_of
        self.state = snapshot.state
        self.known = snapshot.known
        self.rules = RuleState(self.ruleset) if self.ruleset is not None else None
        if self.rules is not None:
            self._warm(snapshot.recent)

    def _warm(self, recent: pd.DataFrame) -> None:
        assert self.rules is not None
        if not (window := rule_days(self.ruleset)):
            return
        reg = days(recent["registered_date"])
        for record in records(recent[reg > self.as_of - window]):
            self.rules.register(record, record)  # the row holds the features too

    async def take_back(self, pending: Sequence[Pending]) -> None:
        """The checks of ``pending`` failed (their journal write, or their scoring): those
        that joined the state leave it (see the module docstring)."""
        failed = {id(p.record) for p in pending if p.registered}
        if not failed:
            return
        if self.restore is None:
            raise RuntimeError("a check failed to journal and the ledger cannot be restored")
        snapshot = await asyncio.to_thread(self.restore)
        again = [r for r in self.joined if id(r) not in failed]
        self._take(snapshot)
        self.joined = []
        for record in again:
            self._join(record, self.state.features(record))
        log.warning("%d checks failed to journal: the contract ledger was restored and %d "
                    "checks registered again", len(failed), len(again))

    def _join(self, record: Mapping[str, Any], features: dict[str, float]) -> None:
        self.state.register(record, features)
        if self.rules is not None:
            self.rules.register(record, features)
        self.known.add(str(record["contract_id"]))
        self.joined.append(record)

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
            self._join(record, features)
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
