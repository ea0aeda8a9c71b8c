"""What the score endpoints answer and accept."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from models.rules.tier import Tier
from service.core.inputs import FREE_TEXT
from service.core.paging import PageOut

Kind = Literal["institution", "broker"]
Grade = Literal["A", "B", "C", "D"]


class HistoryPoint(BaseModel):
    as_of: date
    points: float
    grade: str
    probability: float
    model_version: str


class OverrideOut(BaseModel):
    """A regulator's grade; the model's score stays beside it."""

    grade: str
    reason: str
    set_by: str
    created_at: datetime
    expires_at: datetime


class OverrideIn(BaseModel):
    grade: Grade
    reason: str = Field(min_length=5, max_length=2000, pattern=FREE_TEXT,
                        description="why, recorded in the audit")
    days: int = Field(ge=1, le=730, description="the override expires after this many days")


class WarningBrief(BaseModel):
    tier: Tier
    reasons_zh: list[str]
    reasons_en: list[str]
    as_of: date


class ListingOut(BaseModel):
    """On the dishonesty list (失信名单) by a case, until its publication period ends."""

    case_id: int
    state: str
    conduct: str | None
    severity: str | None
    published: bool = Field(description="minor cases may be listed without being published")
    listed_on: date | None
    publication_ends: date


class StatusOut(BaseModel):
    """The institution's status of record from the annual assessment (动态管理)."""

    status: str
    year: int
    since: datetime
    basis: str


class ReasonOut(BaseModel):
    """One reason of a credit score: a declared reason code, its cost in points, and what the
    entity can do about it."""

    code: str
    zh: str
    en: str
    feature: str = Field(description="the model feature that weighs most in this reason")
    detail_zh: str
    detail_en: str
    value: float | str | None
    points: float = Field(description="credit points lost to this reason")
    action_zh: str
    action_en: str


class ChangeOut(BaseModel):
    feature: str
    code: str
    zh: str
    en: str
    before: float
    after: float


class RepairOut(BaseModel):
    """Credit repair guidance (信用修复指引): the smallest actionable changes that would move
    the entity up one grade, for the entity and for the regulator deciding a repair."""

    grade: str
    target: str | None = Field(description="the next better grade; null: already A")
    reachable: bool
    changes: list[ChangeOut]
    probability: float
    probability_after: float
    points_after: float
    method: str
    entity_zh: str
    entity_en: str
    regulator_zh: str
    regulator_en: str


class EntityScoreOut(BaseModel):
    entity_kind: Kind
    entity_id: str
    region: str | None
    as_of: date
    feature_as_of: date
    points: float
    grade: str
    probability: float = Field(description="calibrated probability of a confirmed bad record "
                                           "within 12 months")
    reasons_zh: list[str]
    reasons_en: list[str]
    reasons: list[ReasonOut] = Field(default_factory=list,
                                     description="the reasons as data, points per reason")
    repair: RepairOut | None = Field(default=None, description="credit repair guidance")
    model_name: str
    model_version: str
    alias: str | None
    registry_status: str | None = Field(description="the register's status (e.g. warned)")
    override: OverrideOut | None
    effective_grade: str = Field(description="the override's grade while it holds, else the "
                                             "model's")
    warning: WarningBrief | None
    listing: ListingOut | None = Field(default=None, description="a dishonesty listing in force")
    status_of_record: StatusOut | None = Field(
        default=None, description="the assessment's decision (exited institutions are not "
                                  "scored again)")
    history: list[HistoryPoint]


class ScoreRow(BaseModel):
    id: int
    entity_kind: Kind
    entity_id: str
    region: str | None
    as_of: date
    points: float
    grade: str
    probability: float
    tier: Tier | None
    model_version: str


class ScorePage(PageOut[ScoreRow]):
    as_of: date | None = Field(description="the batch date the scores are of")
