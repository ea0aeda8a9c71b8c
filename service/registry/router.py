"""``GET /models``: which versions answer now, through which alias, and who approved them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from service.deps import Ctx, ModelReader, journal, record

router = APIRouter(tags=["models 模型"])


class ReviewOut(BaseModel):
    version: str
    reviewer: str
    decided_at: datetime
    outcome: str
    gate_passed: bool
    note: str


class ServedModel(BaseModel):
    name: str
    version: str
    alias: str | None
    role: str  # what it serves here
    reviews: list[ReviewOut]


class ModelsOut(BaseModel):
    models: list[ServedModel]
    loaded_at: datetime | None
    rules_version: str | None
    registry_problem: str | None


@router.get("/models", response_model=ModelsOut)
async def served_models(principal: ModelReader, ctx: Ctx, request: Request) -> ModelsOut:
    """The champion versions in use (anomaly: real-time checks; credit: the batch scores) with
    their review decisions, the approved rule set, and any registry problem."""
    loaded = ctx.holder.current
    models = []
    if loaded is not None:
        for ref, role in ((loaded.anomaly_ref, "contract checks 合同核查"),
                          (loaded.credit_ref, "entity scores 主体评分")):
            if ref is None:
                continue
            reviews = [ReviewOut(version=r.version, reviewer=r.reviewer, decided_at=r.decided_at,
                                 outcome=r.outcome.value, gate_passed=r.gate_passed, note=r.note)
                       for r in loaded.reviews if r.model_name == ref.name]
            models.append(ServedModel(name=ref.name, version=ref.version, alias=ref.alias,
                                      role=role, reviews=reviews))
    rules = ctx.checker.ruleset if ctx.checker is not None else None
    await journal(ctx, request, audits=[record(request, principal, "read_models", "ok")])
    return ModelsOut(models=models, loaded_at=loaded.loaded_at if loaded else None,
                     rules_version=f"v{rules.version} ({rules.sha256[:12]})" if rules else None,
                     registry_problem=ctx.holder.problem)
