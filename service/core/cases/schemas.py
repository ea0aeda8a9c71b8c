"""What the case endpoints accept and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field

from service.core.cases.enums import Severity
from service.core.inputs import ENTITY_ID, FREE_TEXT, MULTILINE_TEXT

Conduct = Literal["false_registration", "split_contracts", "circular_trade", "inflated_amount",
                  "misreported_performance", "breach_of_contract", "research_integrity"]
# case reasons and remediations are written as paragraphs: LF kept, other controls refused
Text = Field(default=None, min_length=2, max_length=4000, pattern=MULTILINE_TEXT)


class CaseOpenIn(BaseModel):
    subject_kind: Literal["institution", "broker", "party"]
    subject_id: str = Field(pattern=ENTITY_ID)
    subject_name: str | None = Field(default=None, max_length=200, pattern=FREE_TEXT)
    conduct: Conduct | None = Field(default=None, description="empty: to be established")
    reason: str = Field(min_length=2, max_length=4000, pattern=MULTILINE_TEXT)


class ActionIn(BaseModel):
    """Fields an action may need; which ones it requires is in the transition table
    (``GET /cases/transitions``)."""

    reason: str | None = Text
    conduct: Conduct | None = None
    severity: Severity | None = None
    basis: str | None = Field(default=None, min_length=2, max_length=1000, pattern=FREE_TEXT,
                              description="legal basis of the determination")
    decision_number: str | None = Field(default=None, min_length=2, max_length=64,
                                        pattern=FREE_TEXT)
    remediation: str | None = Text
    commitment: bool | None = Field(default=None, description="the subject's credit commitment")
    evidence_files: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=50)
    expected_version: int | None = Field(default=None, ge=1, le=2**31,
                                         description="refuse (409) if the case has moved on")


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=64, pattern=FREE_TEXT)


class FileIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=FREE_TEXT)
    media_type: str = Field(default="application/octet-stream", max_length=100,
                            pattern=r"^[\w.+-]+/[\w.+-]+$")
    content_base64: str = Field(min_length=1, description="the file, base64-encoded")


class FileOut(BaseModel):
    id: int
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class MeasureIn(BaseModel):
    measure: Literal["restrict_funding", "revoke_tax_relief", "strict_registration",
                     "restrict_procurement", "restrict_honours", "restrict_qualification"]
    agency: str = Field(min_length=2, max_length=200, pattern=FREE_TEXT)
    starts: date
    ends: date | None = None


MEASURES: tuple[str, ...] = get_args(MeasureIn.model_fields["measure"].annotation)


class MeasureOut(BaseModel):
    id: int
    measure: str
    agency: str
    starts: date
    ends: date | None
    added_by: str
    lifted_at: datetime | None
    lifted_reason: str | None


class EventOut(BaseModel):
    id: int
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str | None
    at: datetime
    reason: str | None
    detail: dict[str, Any]
    file_ids: list[int]
    model_version: str | None


class CaseOut(BaseModel):
    id: int
    version: int
    subject_kind: str
    subject_id: str
    subject_name: str | None
    region: str | None
    conduct: str | None
    severity: str | None
    state: str
    state_zh: str
    source: str
    assignee: str | None
    opened_by: str
    opened_at: datetime
    model_name: str | None
    model_version: str | None
    score_points: float | None
    evidence: list[dict[str, Any]]
    basis: str | None
    decision_number: str | None
    decided_on: date | None
    notice_on: date | None
    objection_due: date | None
    answer_due: date | None
    listed_on: date | None
    repair_from: date | None
    publication_ends: date | None
    published: bool
    repair_due: date | None
    deadline_provisional: bool = Field(description="a deadline counted over a year whose "
                                                   "public holidays are not yet published")
    pending_action: str | None
    pending_by: str | None
    actions: list[str] = Field(description="what a person may do next")


class CaseDetail(CaseOut):
    events: list[EventOut]
    files: list[FileOut]
    measures: list[MeasureOut]


class ActionOut(BaseModel):
    case: CaseOut
    proposed: bool = Field(description="a four-eyes step: waits for a second person")
    merged: bool = False


class QueueItemOut(BaseModel):
    case_id: int
    subject_kind: str
    subject_id: str
    subject_name: str | None
    state: str
    assignee: str | None
    pending_action: str | None
    due: date | None
    due_kind: str | None
    overdue: bool
    ready: bool


class TransitionOut(BaseModel):
    action: str
    sources: list[str]
    target: str
    party: str
    four_eyes: bool
    requires: list[str]
    zh: str
    en: str
