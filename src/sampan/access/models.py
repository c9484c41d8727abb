"""Tables owned by access: API keys, console users and sessions, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime


class ApiKey(Base):
    """A management API key; only its hash is stored."""

    __tablename__ = "access_api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Keys issued before roles existed could do everything: they stay admin keys.
    role: Mapped[str] = mapped_column(String(40), server_default="admin")
    scopes: Mapped[list[str] | None] = mapped_column(JSONDoc, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by: Mapped[str | None] = mapped_column(String(100), default=None)


class User(Base):
    """A console user; the password is stored only as an argon2 hash."""

    __tablename__ = "access_users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UserSession(Base):
    """A console session; the cookie's token and the CSRF token are stored only hashed."""

    __tablename__ = "access_sessions"
    __table_args__ = (Index("ix_access_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRecord(Base):
    """One audit entry; the database refuses UPDATE and DELETE on this table (migration 0002)."""

    __tablename__ = "access_audit_log"
    __table_args__ = (
        Index("ix_access_audit_log_at", "at"),
        Index("ix_access_audit_log_actor_id", "actor_id"),
        Index("ix_access_audit_log_subject_id", "subject_id"),
        Index("ix_access_audit_log_action", "action"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
