"""``POST /contracts/check`` and ``/contracts/check/batch``: a contract as it is registered.

Runs in the event loop without awaiting between the state read and the state update, so
checks are applied to the registry state one at a time in arrival order; the model then scores
the checks of concurrent requests together (:mod:`service.core.contracts.batcher`); the check row
and its audit entry are committed (group commit) before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from service.core.champions.holder import Loaded
from service.core.context import ServiceContext
from service.core.contracts.checker import CheckResult, ContractChecker, Pending
from service.core.contracts.schemas import (
    BatchIn,
    BatchOut,
    CheckOut,
    ContractIn,
    HitOut,
    ReasonOut,
)
from service.core.db.tables import ContractCheck
from service.core.db.tokens import Principal
from service.core.db.types import CheckSource
from service.core.journal import Insert
from service.web.deps import ContractOfficer, Ctx, journal, record

router = APIRouter(tags=["contracts 合同核查"])
CHECKS = ContractCheck.__table__
Register = Annotated[bool, Query(description="add the contract to the registry state (false: a "
                                             "dry run that changes nothing)")]


def _ready(ctx: ServiceContext) -> None:
    if ctx.holder.current is None or ctx.checker is None:
        why = ctx.state_problem or ctx.holder.problem or "not ready"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{why} / 服务尚未就绪",
                            headers={"Retry-After": "5"})


def score_checks(items: Sequence[tuple[ContractChecker, Loaded, Pending]]
                 ) -> list[CheckResult]:
    """The model's part of checks prepared by several requests: one prediction per run of
    items under the same models (a swap between two requests splits the batch)."""
    out: list[CheckResult] = []
    for _, group in groupby(items, key=lambda i: (id(i[0]), id(i[1]))):
        batch = list(group)
        checker, loaded = batch[0][0], batch[0][1]
        out.extend(checker.score(loaded.anomaly, loaded.anomaly_ref, [p for *_, p in batch]))
    return out


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


def _out(r: CheckResult) -> CheckOut:
    return CheckOut(
        contract_id=r.contract_id, registered_date=r.registered_date, probability=r.probability,
        tier=r.tier,
        reasons=[ReasonOut(feature=x.feature, zh=x.text_zh, en=x.text_en, logit=x.logit)
                 for x in r.reasons],
        rule_hits=[HitOut(rule_id=h.rule_id, severity=h.tier, zh=h.zh, en=h.en)
                   for h in r.hits],
        registered=r.registered, model_name=r.model.name, model_version=r.model.version,
        alias=r.model.alias)


async def check_contracts(ctx: ServiceContext, request: Request, principal: Principal,
                          contracts: list[ContractIn], register: bool) -> list[CheckOut]:
    """Check ``contracts`` in order, commit their rows and audit entries, then answer (the
    routes, and :mod:`service.web.fast_lane` for a single check)."""
    _ready(ctx)
    loaded, checker = ctx.holder.current, ctx.checker
    assert loaded is not None and checker is not None
    pending = [checker.prepare(c.record(), register) for c in contracts]
    if len(pending) == 1:  # one per request: scored with the other requests' (micro-batch)
        results = [await request.app.state.checks.submit((checker, loaded, pending[0]))]
    else:
        results = checker.score(loaded.anomaly, loaded.anomaly_ref, pending)
    audits = [record(request, principal, "check_contract", "ok", "contract", r.contract_id,
                     {"probability": round(r.probability, 6), "tier": r.tier,
                      "model_version": r.model.version, "registered": r.registered})
              for r in results]
    await journal(ctx, request, rows=[_row(r, principal) for r in results], audits=audits)
    for r in results:
        ctx.metrics.checks.labels(r.tier or "none").inc()
    return [_out(r) for r in results]


@router.post("/contracts/check", response_model=CheckOut)
async def check_contract(contract: ContractIn, principal: ContractOfficer,  # type: ignore[valid-type]
                         ctx: Ctx, request: Request, register: Register = True) -> CheckOut:
    """One contract at registration: anomaly probability, tier, reasons and rule hits, from
    features the service keeps current; the contract then joins its parties' state."""
    return (await check_contracts(ctx, request, principal, [contract], register))[0]


@router.post("/contracts/check/batch", response_model=BatchOut)
async def check_batch(body: BatchIn, principal: ContractOfficer, ctx: Ctx, request: Request,
                      register: Register = True) -> BatchOut:
    """Up to 1,000 contracts, checked in the order given (a later one sees the earlier)."""
    if len(body.contracts) > ctx.settings.api_batch_max:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "field": "body.contracts", "rule": "too_long",
            "message": f"at most {ctx.settings.api_batch_max} contracts per batch"}])
    return BatchOut(results=await check_contracts(ctx, request, principal, body.contracts,
                                                  register))
