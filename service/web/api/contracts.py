"""``POST /contracts/check`` and ``/contracts/check/batch``: a contract as it is registered,
answered by :func:`service.core.contracts.check.check_contracts`, as the fast lane and the
command line answer it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from service.core.contracts import check
from service.core.contracts.schemas import BatchIn, BatchOut, CheckOut, ContractIn
from service.core.db.tokens import Principal
from service.web.deps import ContractOfficer, Ctx, deny, record
from service.web.errors import not_ready

router = APIRouter(tags=["contracts 合同核查"])
Register = Annotated[bool, Query(description="add the contract to the contract ledger (false: a "
                                             "dry run that changes nothing)")]


async def _check(ctx: Ctx, request: Request, principal: Principal,
                 contracts: list[ContractIn], register: bool) -> list[CheckOut]:
    try:
        return await check.check_contracts(
            ctx, principal, record(request, principal, "check_contract", "ok"), contracts,
            register)
    except check.NotReady as e:
        raise not_ready(e) from None
    except check.Forbidden as e:
        raise await deny(ctx, request, principal, "check_contract", status.HTTP_403_FORBIDDEN,
                         str(e), "contract", ",".join(c.contract_id for c in contracts)
                         ) from None


@router.post("/contracts/check", response_model=CheckOut)
async def check_contract(contract: ContractIn, principal: ContractOfficer,  # type: ignore[valid-type]
                         ctx: Ctx, request: Request, register: Register = True) -> CheckOut:
    """One contract at registration: anomaly probability, tier, reasons and rule hits, from
    features the service keeps current; the contract then joins its parties' state."""
    return (await _check(ctx, request, principal, [contract], register))[0]


@router.post("/contracts/check/batch", response_model=BatchOut)
async def check_batch(body: BatchIn, principal: ContractOfficer, ctx: Ctx, request: Request,
                      register: Register = True) -> BatchOut:
    """Up to 1,000 contracts, checked in the order given (a later one sees the earlier)."""
    if len(body.contracts) > ctx.settings.api.batch_max:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "field": "body.contracts", "rule": "too_long",
            "message": f"at most {ctx.settings.api.batch_max} contracts per batch"}])
    return BatchOut(results=await _check(ctx, request, principal, body.contracts, register))
