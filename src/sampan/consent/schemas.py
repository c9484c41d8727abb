"""Shapes consent accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["granted", "withdrawn"]
LawfulBasis = Literal["consent", "contract", "legitimate_interest", "legal_obligation"]
RequestType = Literal["access", "rectification", "erasure", "restriction", "objection"]
RequestStatus = Literal["open", "in_progress", "completed", "rejected"]


class ConsentInput(BaseModel):
    """One consent change sent to the management API."""

    purpose: str = Field(min_length=1, max_length=40, examples=["marketing"])
    channel: str | None = Field(default=None, examples=["line"])
    status: Status
    lawful_basis: LawfulBasis = "consent"
    notice_version: str | None = Field(default=None, max_length=60, examples=["2026-01"])
    notice_language: str | None = Field(default=None, max_length=60, examples=["th"])
    expires_at: datetime | None = None


class ConsentUpdate(BaseModel):
    """Consent changes for one profile, captured together."""

    consents: list[ConsentInput] = Field(min_length=1, max_length=100)
    capture_channel: str | None = Field(default=None, max_length=20, examples=["pos"])
    recorded_at: datetime | None = Field(
        default=None, description="When the person gave or withdrew it; now when omitted"
    )


class SuppressionCreate(BaseModel):
    """An identifier never to be contacted again (a do-not-contact list entry)."""

    type: str = Field(min_length=1, max_length=40, examples=["phone"])
    value: str = Field(min_length=1, max_length=255, examples=["081-234-5678"])
    reason: Literal["manual", "complaint", "bounce"] = "manual"


class SuppressionResult(BaseModel):
    """Whether an identifier was newly suppressed."""

    added: bool


class ConsentRecordOut(BaseModel):
    """One record of the append-only consent history."""

    id: int
    profile_id: str
    purpose: str
    channel: str | None
    status: Status
    lawful_basis: str
    notice_version: str | None
    notice_language: str | None
    source: str
    capture_channel: str | None
    recorded_by: str
    recorded_at: datetime
    expires_at: datetime | None


class ConsentSlot(BaseModel):
    """The current state of one purpose on one channel, derived from the history."""

    purpose: str
    channel: str | None
    status: Literal["granted", "withdrawn", "expired", "none"]
    requires_consent: bool
    record: ConsentRecordOut | None


class ConsentState(BaseModel):
    """A person's current consents, blocks and history."""

    profile_id: str
    blocks: list[str]
    current: list[ConsentSlot]
    history: list[ConsentRecordOut]


class ContactCheck(BaseModel):
    """The answer of ``can_contact``."""

    profile_id: str
    purpose: str
    channel: str | None
    allowed: bool
    reason: str
    detail: str


class ImportReport(BaseModel):
    """What a consent CSV import stored."""

    rows: int
    events_logged: int
    source_id: str


class RequestCreate(BaseModel):
    """A data-subject request as received."""

    type: RequestType
    profile_id: str = Field(min_length=1, max_length=40)
    requester: str = Field(min_length=1, max_length=500, examples=["คุณสมชาย ใจดี, LINE chat"])
    verification_note: str = Field(default="", max_length=2000)
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="For rectification: {'traits': {...}} with the corrected values",
    )


class RequestTransition(BaseModel):
    """Move a request along: start work on it or reject it with a reason."""

    status: Literal["in_progress", "rejected"]
    note: str = Field(default="", max_length=2000)


class RequestStepOut(BaseModel):
    """One step of a request's audit trail."""

    at: datetime
    actor: str
    action: str
    note: str


class RequestOut(BaseModel):
    """A data-subject request with its trail."""

    id: str
    type: RequestType
    profile_id: str
    requester: str
    verification_note: str
    details: dict[str, Any]
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    closed_at: datetime | None
    overdue: bool
    result: dict[str, Any]
    steps: list[RequestStepOut]


class RequestPage(BaseModel):
    """A page of data-subject requests."""

    items: list[RequestOut]
    total: int


class ErasureReport(BaseModel):
    """What an erasure removed, per domain and kind of data."""

    profile_id: str
    removed: dict[str, int]
    suppressed_identifiers: int


class BlockChange(BaseModel):
    """Set or lift a restriction of processing or an objection."""

    active: bool
    request_id: str | None = None


class RetentionRule(BaseModel):
    """A class of data and how long it is kept."""

    name: str
    description: str
    days: int


class RetentionRunOut(BaseModel):
    """One enforcement of the retention rules."""

    started_at: datetime
    finished_at: datetime
    removed: dict[str, int]
    rules: dict[str, int]


class RetentionReport(BaseModel):
    """The retention rules in force and the latest runs."""

    rules: list[RetentionRule]
    runs: list[RetentionRunOut]


class PreferenceLink(BaseModel):
    """A signed, expiring link to a person's preference page."""

    url: str
    expires_at: datetime
