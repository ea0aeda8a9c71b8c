"""What the assessment endpoints answer and accept."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.core.inputs import ENTITY_ID, FREE_TEXT
from service.core.paging import PageOut

OutcomeName = Literal["pass", "warning", "exit"]
Reason = Field(min_length=5, max_length=2000, pattern=FREE_TEXT,
               description="why, recorded with the decision and in the audit")
Version = Field(ge=1, le=2**31, description="the assessment's version you saw (optimistic lock)")


class AssessmentOut(BaseModel):
    year: int
    state: Literal["draft", "published"]
    version: int
    config_version: int
    config_sha256: str
    quota: int
    counts: dict[str, int] = Field(description="results per outcome in force")
    created_by: str
    created_at: datetime
    updated_by: str = Field(description="who ran or last adjusted the draft")
    published_by: str | None
    published_at: datetime | None
    appeal_deadline: datetime | None = Field(description="appeals may be filed until then")


class CreditOut(BaseModel):
    """The institution's latest score when the draft was made, and the warning of that date."""

    as_of: str
    points: float
    grade: str
    model: str
    tier: str | None = Field(description="the warning's tier at that date; null: not warned")
    reason_codes: list[str]
    reasons_zh: list[str]
    reasons_en: list[str]


class ResultRow(BaseModel):
    institution_id: str
    name: str
    institution_type: str
    region: str
    tier: str
    group: str
    group_size: int
    rank: int
    total: float
    model_outcome: OutcomeName = Field(description="what the indicators proposed")
    outcome: OutcomeName = Field(description="in force, after adjustments and appeals")
    adjusted: bool
    basis: list[str]
    reasons_zh: list[str]
    reasons_en: list[str]
    credit: CreditOut | None = Field(description="latest score and warning; null: never "
                                     "scored")
    credit_flag: bool = Field(description="passes despite grade D or a red warning: "
                              "publishing needs a written reason")
    pass_reason: str | None = Field(description="the reason the flagged pass was published "
                                    "with")


class YearOut(PageOut[ResultRow]):
    """A page of one year's results, with the year's assessment."""

    assessment: AssessmentOut
    flagged: int = Field(description="results of the whole year that pass despite grade D or "
                         "a red warning")


class IndicatorOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    category: str
    weight: float
    direction: Literal["higher", "lower"]
    unit_zh: str
    unit_en: str
    limit: float | None
    value: float | None
    score: float | None = Field(description="0-100 within the group; null: left out")
    group_median: float | None
    median_score: float | None
    breach: bool = Field(description="the value misses the indicator's required limit")
    note_zh: str
    note_en: str


class EventOut(BaseModel):
    id: int
    kind: str
    actor: str
    role: str | None
    at: datetime
    reason: str | None
    before: str | None
    after: str | None
    appeal_id: int | None


class AppealOut(BaseModel):
    id: int
    year: int
    institution_id: str
    state: Literal["filed", "upheld", "rejected"]
    filed_by: str
    filed_at: datetime
    reason: str
    requested_outcome: str | None
    deadline: datetime
    outcome_before: str
    outcome_after: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class TrendOut(BaseModel):
    year: int
    state: str
    total: float
    rank: int
    group_size: int
    outcome: OutcomeName


class ResultOut(BaseModel):
    year: int
    state: Literal["draft", "published"]
    version: int
    result: ResultRow
    report_year: int | None = Field(description="the annual report the indicators read")
    indicators: list[IndicatorOut]
    events: list[EventOut]
    appeals: list[AppealOut]
    trend: list[TrendOut]


class AdjustIn(BaseModel):
    outcome: OutcomeName
    reason: str = Reason
    version: int = Version


PassReason = Annotated[str, Field(max_length=2000, pattern=FREE_TEXT)]


class PublishIn(BaseModel):
    version: int = Version
    reasons: dict[Annotated[str, Field(pattern=ENTITY_ID)], PassReason] = Field(
        default_factory=dict, max_length=10_000,
        description="institution id → why it passes despite grade D or a red warning "
                    "(at least 5 characters), one for each such pass")


class AppealIn(BaseModel):
    institution_id: str = Field(pattern=r"^[A-Z]{1,3}[0-9A-Z]{4,20}$")
    reason: str = Reason
    requested_outcome: OutcomeName | None = None


class DecideIn(BaseModel):
    decision: Literal["upheld", "rejected"]
    outcome: OutcomeName | None = Field(default=None,
                                        description="the new outcome of an upheld appeal")
    reason: str = Reason
