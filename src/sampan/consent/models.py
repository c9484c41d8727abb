"""Tables owned by consent: records, blocks, suppressions, data-subject requests, retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime


class ConsentRecord(Base):
    """One consent given or withdrawn; never updated, the latest per slot is the state."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_profile_slot", "profile_id", "purpose", "channel"),
        # A replayed event records nothing twice (NULL for changes not from the log).
        UniqueConstraint("event_seq", "purpose", "channel"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(10))
    lawful_basis: Mapped[str] = mapped_column(String(24))
    notice_version: Mapped[str | None] = mapped_column(String(60), default=None)
    notice_language: Mapped[str | None] = mapped_column(String(60), default=None)
    source: Mapped[str] = mapped_column(String(60))
    capture_channel: Mapped[str | None] = mapped_column(String(20), default=None)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    event_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)


class ProcessingBlock(Base):
    """A restriction of processing or an objection in force for a profile."""

    __tablename__ = "consent_blocks"
    __table_args__ = (UniqueConstraint("profile_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    request_id: Mapped[str | None] = mapped_column(String(40), default=None)


class Suppression(Base):
    """A salted hash of an identifier whose owner must never be contacted again."""

    __tablename__ = "consent_suppressions"

    identifier_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    identifier_type: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PrivacyRequest(Base):
    """A data-subject request under PDPA, answered within the due date."""

    __tablename__ = "consent_requests"
    __table_args__ = (Index("ix_consent_requests_status_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    profile_id: Mapped[str] = mapped_column(String(40), index=True)
    requester: Mapped[str] = mapped_column(Text)
    verification_note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[str] = mapped_column(String(12))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class RequestStep(Base):
    """One step of a request's trail: who did what, when."""

    __tablename__ = "consent_request_steps"
    __table_args__ = (Index("ix_consent_request_steps_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")


class RetentionRun(Base):
    """One enforcement of the retention rules and what it removed."""

    __tablename__ = "consent_retention_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class WorkspaceSecret(Base):
    """A secret generated once per workspace: the suppression salt, the link signing key."""

    __tablename__ = "consent_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
