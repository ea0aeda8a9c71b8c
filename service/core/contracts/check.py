"""The contract check (合同核查), one function for every caller: the API route, the fast lane
and ``techcredit score --contract`` all answer through :func:`check_records` and
:func:`answer`, so a contract gets the same probability, tier, reasons and rule hits however
it was sent.

:func:`check_contracts` is the service's whole check: the contracts go through the contract
ledger in arrival order (no await between the ledger's read and its update), the model scores
a single check together with concurrent requests' (:mod:`service.core.contracts.batcher`), and
the check rows and audit entries are committed (group commit) before anything is answered; a
check that could not be committed leaves the ledger (:meth:`ContractChecker.take_back`). The
command line has no journal and no other requests: it runs :func:`check_records` on a ledger
of its own and prints :func:`answer`'s result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import groupby
from typing import Any

from models.risk_model import RiskModel
from models.rules.tier import Tier
from models.scoring import ModelRef
from service.core.context import ServiceContext
from service.core.contracts.checker import CheckItem, CheckResult, ContractChecker
from service.core.contracts.schemas import CheckOut, ContractIn, HitOut, ReasonOut
from service.core.db.audit import AuditRecord
from service.core.db.tables import ContractCheck, RescoreRequest
from service.core.db.tokens import Principal
from service.core.db.types import CheckSource, EntityKind, RescoreCause
from service.core.journal import Insert
from service.core.permissions import office_denial

CHECKS = ContractCheck.__table__
RESCORES = RescoreRequest.__table__


class NotReady(Exception):
    """The models or the contract ledger are still loading (or failed to): try again later."""


class Forbidden(Exception):
    """The caller may not register these contracts (another office's): the caller audits
    and answers the refusal (403), nothing was checked or written."""


def score_checks(items: Sequence[CheckItem]) -> list[CheckResult]:
    """The model's part of checks prepared by several requests: one prediction per run of
    items under the same models (a swap between two requests splits the batch)."""
    out: list[CheckResult] = []
    for _, group in groupby(items, key=lambda i: (id(i[0]), id(i[1]))):
        batch = list(group)
        checker, loaded = batch[0][0], batch[0][1]
        out.extend(checker.score(loaded.anomaly, loaded.anomaly_ref, [p for *_, p in batch]))
    return out


def check_records(checker: ContractChecker, anomaly: RiskModel, ref: ModelRef,
                  records: Sequence[Mapping[str, Any]], register: bool) -> list[CheckResult]:
    """``records`` through the ledger in order (a later one sees the earlier when
    ``register``), then one prediction for all of them."""
    return checker.score(anomaly, ref, [checker.prepare(r, register) for r in records])


def answer(r: CheckResult) -> CheckOut:
    """The check as the API answers it."""
    return CheckOut(
        contract_id=r.contract_id, registered_date=r.registered_date, probability=r.probability,
        tier=r.tier,
        reasons=[ReasonOut(feature=x.feature, zh=x.text_zh, en=x.text_en, logit=x.logit)
                 for x in r.reasons],
        rule_hits=[HitOut(rule_id=h.rule_id, severity=h.tier, zh=h.zh, en=h.en)
                   for h in r.hits],
        registered=r.registered, model_name=r.model.name, model_version=r.model.version,
        alias=r.model.alias)


def _row(r: CheckResult, principal: Principal) -> Insert:
    """The check's ``contract_checks`` row, as column values for the journal's Core insert."""
    return Insert(CHECKS, {
        "contract_id": r.contract_id, "source": CheckSource.check.value,
        "probability": r.probability, "tier": r.tier,
        "reasons_zh": [x.text_zh for x in r.reasons], "reasons_en": [x.text_en for x in r.reasons],
        "rule_hits": [h.rule_id for h in r.hits], "model_name": r.model.name,
        "model_version": r.model.version, "registered_date": r.registered_date,
        "institution_id": r.institution_id, "broker_id": r.broker_id, "region": r.region,
        "alias": r.model.alias, "checked_by": principal.user})


def rescores(r: CheckResult) -> list[Insert]:
    """A contract registered red asks for its institution and broker to be re-scored as of its
    registration day (:mod:`pipelines.scoring.events`), in the check's own transaction: the
    evidence and the request are on record together or not at all."""
    if not (r.registered and r.tier == Tier.red and r.registered_date is not None):
        return []
    return [Insert(RESCORES, {"entity_kind": kind, "entity_id": entity_id,
                              "cause": RescoreCause.red_contract.value,
                              "cause_id": r.contract_id, "day": r.registered_date})
            for kind, entity_id in ((EntityKind.institution.value, r.institution_id),
                                    (EntityKind.broker.value, r.broker_id)) if entity_id]


def _audit(stamp: AuditRecord, r: CheckResult) -> AuditRecord:
    return replace(stamp, entity_kind="contract", entity_id=r.contract_id, detail={
        **stamp.detail, "probability": round(r.probability, 6), "tier": r.tier,
        "model_version": r.model.version, "registered": r.registered})


async def check_contracts(ctx: ServiceContext, principal: Principal, stamp: AuditRecord,
                          contracts: Sequence[ContractIn], register: bool) -> list[CheckOut]:
    """Check ``contracts`` in order, commit their rows and audit entries (``stamp``: the
    caller's record of the request, completed here per contract), then answer. A contract
    naming an office that is not the caller's is :class:`Forbidden` before anything runs."""
    denial = office_denial(principal, [c.office_id for c in contracts])
    if denial is not None:
        raise Forbidden(denial)
    loaded, checker = ctx.holder.current, ctx.checker
    if loaded is None or checker is None:
        raise NotReady(ctx.state_problem or ctx.holder.problem or "not ready")
    pending = [checker.prepare(c.record(), register) for c in contracts]
    try:
        if len(pending) == 1:  # one per request: scored with the other requests' (micro-batch)
            results = [await ctx.checks.submit((checker, loaded, pending[0]))]
        else:
            results = checker.score(loaded.anomaly, loaded.anomaly_ref, pending)
        await ctx.journal.write([row for r in results
                                 for row in (_row(r, principal), *rescores(r))],
                                [_audit(stamp, r) for r in results])
    except Exception:  # not on record: the contracts leave the ledger as if never checked
        await checker.take_back(pending)
        raise
    for r in results:
        ctx.metrics.checks.labels(r.tier or "none").inc()
    return [answer(r) for r in results]
