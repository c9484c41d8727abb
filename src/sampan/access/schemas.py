"""Shapes access returns: principals and permissions, keys, users, roles, audit entries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Permission(StrEnum):
    """What a principal may do; roles are named sets of these (access/roles.py)."""

    PROFILES_READ = "profiles:read"
    PROFILES_WRITE = "profiles:write"
    PII_READ = "pii:read"
    CONSENT_READ = "consent:read"
    CONSENT_WRITE = "consent:write"
    PRIVACY_REQUESTS = "privacy:requests"
    PRIVACY_EXPORT = "privacy:export"
    PRIVACY_ERASE = "privacy:erase"
    RETENTION_MANAGE = "retention:manage"
    AUDIT_READ = "audit:read"
    USERS_MANAGE = "users:manage"
    KEYS_MANAGE = "keys:manage"
    SOURCES_MANAGE = "sources:manage"
    OPERATIONS_READ = "operations:read"
    EVENTS_READ = "events:read"
    SEGMENTS_READ = "segments:read"
    SEGMENTS_WRITE = "segments:write"
    JOURNEYS_READ = "journeys:read"
    JOURNEYS_WRITE = "journeys:write"
    MESSAGING_READ = "messaging:read"
    MESSAGING_SEND = "messaging:send"
    MESSAGING_RECEIPTS = "messaging:receipts"
    CHANNELS_MANAGE = "channels:manage"
    COMMERCE_READ = "commerce:read"
    COMMERCE_WRITE = "commerce:write"
    COMMERCE_MANAGE = "commerce:manage"


ALL_PERMISSIONS = "*"
PrincipalKind = Literal["user", "api_key", "source", "system", "customer"]


class Principal(BaseModel):
    """Who is acting: a console user, an API key, a source, Sampan itself or a customer."""

    model_config = ConfigDict(frozen=True)

    kind: PrincipalKind
    id: str
    name: str
    role: str | None
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        """Return whether this principal holds the permission ("*" grants every one)."""
        return ALL_PERMISSIONS in self.permissions or permission in self.permissions

    def missing(self, permissions: frozenset[str]) -> list[str]:
        """Return, sorted, the permissions of the set this principal lacks."""
        return sorted(p for p in permissions if not self.can(p))


SYSTEM = Principal(
    kind="system", id="system", name="Sampan", role="admin", permissions=frozenset({"*"})
)
# Whoever tried to log in with an e-mail address no user has: audited without the address.
ANONYMOUS = Principal(
    kind="user", id="anonymous", name="anonymous", role=None, permissions=frozenset()
)


class RoleInfo(BaseModel):
    """A role and the permissions it grants."""

    name: str
    description: str
    permissions: list[str]


class PrincipalInfo(BaseModel):
    """The caller as ``GET /api/auth/me`` shows it."""

    kind: PrincipalKind
    id: str
    name: str
    role: str | None
    permissions: list[str]


class ApiKeyCreate(BaseModel):
    """Request to issue an API key: its role, optionally narrowed by scopes, and an expiry."""

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="admin", description="A role from GET /api/roles")
    scopes: list[str] | None = Field(
        default=None,
        description="Permissions of the role to keep; all of the role's when omitted",
    )
    expires_at: datetime | None = Field(default=None, description="Refused from this moment on")


class ApiKeyInfo(BaseModel):
    """An API key as listed: never the secret itself."""

    id: str
    name: str
    prefix: str
    role: str
    scopes: list[str] | None
    permissions: list[str]
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedApiKey(ApiKeyInfo):
    """A freshly issued key: the only time the secret is visible."""

    api_key: str


class UserCreate(BaseModel):
    """Request to create a console user."""

    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: str
    password: str = Field(max_length=1024, description="At least 10 characters")


class UserUpdate(BaseModel):
    """Changes to a console user; omitted fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = None
    disabled: bool | None = None
    password: str | None = Field(
        default=None, max_length=1024, description="A new password; also lifts a lock-out"
    )


class UserInfo(BaseModel):
    """A console user as listed: never the password hash."""

    id: str
    email: str
    name: str
    role: str
    disabled: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None


class LoginRequest(BaseModel):
    """Console log-in with e-mail and password."""

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginAnswer(BaseModel):
    """A successful log-in: send ``csrf_token`` as ``X-CSRF-Token`` with every write."""

    user: UserInfo
    csrf_token: str
    expires_at: datetime


class StartedSession(BaseModel):
    """A new console session; the token goes into the cookie and is stored only hashed."""

    token: str
    answer: LoginAnswer


class AuditEntry(BaseModel):
    """One audit record: ids, action and field names, never personal values."""

    id: int
    at: datetime
    actor_kind: str
    actor_id: str
    actor_role: str | None
    action: str
    subject_type: str
    subject_id: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    """A page of the audit log, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    items: list[AuditEntry]
    next_cursor: str | None


class Grant(BaseModel):
    """What a credential grants until when; ``csrf_hash`` is set for console sessions only."""

    principal: Principal
    expires_at: datetime | None
    csrf_hash: str | None = None


class LoginPolicy(BaseModel):
    """How long sessions last, and how many failed log-ins lock an account for how long."""

    session_ttl_minutes: int = 480
    max_failures: int = 5
    lockout_minutes: int = 15
