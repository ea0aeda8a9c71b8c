"""The answers of the model routes: versions serving, the reviewer's catalog, decisions and
drift alerts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.catalog import ModelCatalog, VersionCard
from models.registry import ReviewRecord
from service.core.inputs import REFUSED
from service.core.monitoring.tables import MonitorAlert

# a review note says something (not only spaces), may run over several lines, and holds none
# of the characters free text refuses (service.core.inputs)
NOTE = rf"^(?:[^{REFUSED}]|\r?\n)*[^\s{REFUSED}](?:[^{REFUSED}]|\r?\n)*$"


class ReviewOut(BaseModel):
    version: str
    reviewer: str
    decided_at: datetime
    outcome: str
    gate_passed: bool
    note: str

    @classmethod
    def of(cls, r: ReviewRecord) -> ReviewOut:
        return cls(version=r.version, reviewer=r.reviewer, decided_at=r.decided_at,
                   outcome=r.outcome.value, gate_passed=r.gate_passed, note=r.note)


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


class VersionOut(BaseModel):
    version: str
    aliases: list[str]
    created_at: datetime
    run_id: str
    figures: dict[str, float]
    gate_passed: bool = Field(description="the review gate as it would decide now")
    gate_failures: list[str]
    reviews: list[ReviewOut]
    report: str = Field(description="path of the review report (HTML)")

    @classmethod
    def of(cls, c: VersionCard) -> VersionOut:
        return cls(version=c.version, aliases=list(c.aliases), created_at=c.created_at,
                   run_id=c.run_id, figures=c.figures, gate_passed=c.gate.passed,
                   gate_failures=c.gate.failures, reviews=[ReviewOut.of(r) for r in c.reviews],
                   report=f"/api/v1/models/{c.model_name}/versions/{c.version}/review")


class CatalogOut(BaseModel):
    name: str
    champion: str | None
    challenger: str | None
    versions: list[VersionOut]  # newest first

    @classmethod
    def of(cls, c: ModelCatalog) -> CatalogOut:
        return cls(name=c.model_name, champion=c.champion.version if c.champion else None,
                   challenger=c.challenger.version if c.challenger else None,
                   versions=[VersionOut.of(v) for v in c.recent])


class PromoteIn(BaseModel):
    note: str = Field(min_length=2, max_length=5000, pattern=NOTE,
                      description="the review note, kept")
    override: bool = Field(False, description="promote although the gate fails (recorded)")


class PromotionOut(BaseModel):
    name: str
    version: str
    outcome: str = Field(description="promoted, or overridden (gate failed, reviewer overrode)")
    gate_failures: list[str]
    serving: bool = Field(description="whether the service answers with this version now")


class AlertOut(BaseModel):
    id: int
    month: str
    model_name: str
    model_version: str
    level: str
    state: str
    variables: list[str]
    message_zh: str
    message_en: str
    challenger_version: str | None
    created_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledgement: str | None

    @classmethod
    def of(cls, a: MonitorAlert) -> AlertOut:
        return cls(id=a.id, month=a.month, model_name=a.model_name,
                   model_version=a.model_version, level=a.level, state=a.state,
                   variables=list(a.variables), message_zh=a.message_zh,
                   message_en=a.message_en, challenger_version=a.challenger_version,
                   created_at=a.created_at, acknowledged_by=a.acknowledged_by,
                   acknowledged_at=a.acknowledged_at, acknowledgement=a.acknowledgement)


class AcknowledgeIn(BaseModel):
    note: str = Field(min_length=2, max_length=2000, pattern=NOTE,
                      description="what will be done about it")
