"""Access's facade: API keys, console users and log-in, roles, and the audit log."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sampan.access.audit import AuditBatcher as AuditBatcher
from sampan.access.audit import list_audit as list_audit
from sampan.access.audit import record_audit as record_audit
from sampan.access.logins import authenticate_session as authenticate_session
from sampan.access.logins import end_session as end_session
from sampan.access.logins import end_sessions_of, normalise_email, user_info
from sampan.access.logins import login as login
from sampan.access.models import ApiKey, User
from sampan.access.passwords import check_password_strength, hash_password
from sampan.access.roles import ROLES, check_scopes, expand, permissions_of, role_named
from sampan.access.schemas import (
    SYSTEM,
    ApiKeyInfo,
    Grant,
    IssuedApiKey,
    Principal,
    PrincipalInfo,
    RoleInfo,
    UserInfo,
)
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from sampan.core.ids import new_id
from sampan.core.secrets import hash_secret, new_secret

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def list_roles() -> list[RoleInfo]:
    """Return every role with the permissions it grants, spelled out."""
    return [
        RoleInfo(
            name=role.name,
            description=role.description,
            permissions=sorted(expand(role.permissions)),
        )
        for role in ROLES.values()
    ]


def describe_principal(principal: Principal) -> PrincipalInfo:
    """Return the principal as ``GET /api/auth/me`` shows it, permissions spelled out."""
    return PrincipalInfo(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        permissions=sorted(expand(principal.permissions)),
    )


def issue_api_key(
    session: Session,
    *,
    name: str,
    role: str = "admin",
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    issuer: Principal = SYSTEM,
    clock: Clock = system_clock,
) -> IssuedApiKey:
    """Create an API key and return it with its secret, which is not stored.

    The key gets its role's permissions, narrowed to ``scopes`` when given; it may not
    get any permission its issuer lacks.
    """
    granted_role = role_named(role)
    if scopes is not None:
        check_scopes(granted_role, scopes)
        scopes = sorted(set(scopes))
    now = clock()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput("expires_at needs a time zone, e.g. 2026-12-31T23:59:59+07:00")
        if expires_at <= now:
            raise InvalidInput(f"expires_at {expires_at.isoformat()} is not in the future")
    _refuse_escalation(issuer, permissions_of(role, scopes), what="issue a key with")
    secret = new_secret("sk")
    row = ApiKey(
        id=new_id("key"),
        name=name,
        key_hash=hash_secret(secret),
        prefix=secret[:10],
        role=granted_role.name,
        scopes=scopes,
        expires_at=expires_at,
        created_by=issuer.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    detail = {"role": role, "scopes": scopes, "expires_at": _iso(expires_at)}
    record_audit(
        session,
        actor=issuer,
        action="key.issued",
        subject_type="api_key",
        subject_id=row.id,
        detail=detail,
        clock=clock,
    )
    return IssuedApiKey(**_key_info(row).model_dump(), api_key=secret)


def list_api_keys(session: Session) -> list[ApiKeyInfo]:
    """Return every API key ever issued, oldest first, without secrets."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
    return [_key_info(row) for row in rows]


def authenticate_api_key(session: Session, *, api_key: str) -> Grant:
    """Return what the key grants, or raise Unauthorized when it is unknown or revoked.

    Expiry is the caller's to check against its clock: the grant says until when it holds.
    """
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_secret(api_key)))
    if row is None:
        raise Unauthorized("invalid API key")
    if row.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    return Grant(principal=_key_principal(row), expires_at=row.expires_at)


def revoke_api_key(
    session: Session, *, key_id: str, actor: Principal = SYSTEM, clock: Clock = system_clock
) -> ApiKeyInfo:
    """Revoke a key so it is refused from now on."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key '{key_id}' does not exist")
    _refuse_escalation(actor, _key_principal(row).permissions, what="revoke a key with")
    if row.revoked_at is None:
        row.revoked_at = clock()
        record_audit(
            session,
            actor=actor,
            action="key.revoked",
            subject_type="api_key",
            subject_id=row.id,
            clock=clock,
        )
    return _key_info(row)


def count_api_keys(session: Session) -> int:
    """Return how many API keys were ever issued (0 means an uninitialised workspace)."""
    return session.scalar(select(func.count()).select_from(ApiKey)) or 0


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    actor: Principal = SYSTEM,
    clock: Clock = system_clock,
) -> UserInfo:
    """Create a console user who logs in with this e-mail address and password."""
    address = normalise_email(email)
    if not _EMAIL.match(address) or len(address) > 320:
        raise InvalidInput(f"'{email}' is not an e-mail address, e.g. somchai@example.co.th")
    if not name.strip():
        raise InvalidInput("name must not be blank")
    granted_role = role_named(role)
    check_password_strength(password)
    _refuse_escalation(actor, granted_role.permissions, what="create a user with")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a user with e-mail '{address}' already exists")
    user = User(
        id=new_id("usr"),
        email=address,
        name=name.strip(),
        role=granted_role.name,
        password_hash=hash_password(password),
        disabled=False,
        failed_logins=0,
        created_at=clock(),
    )
    session.add(user)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="user.created",
        subject_type="user",
        subject_id=user.id,
        detail={"role": user.role},
        clock=clock,
    )
    return user_info(user)


def list_users(session: Session) -> list[UserInfo]:
    """Return every console user, oldest first, without password hashes."""
    return [user_info(u) for u in session.scalars(select(User).order_by(User.created_at, User.id))]


def update_user(
    session: Session,
    *,
    user_id: str,
    name: str | None = None,
    role: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
    actor: Principal = SYSTEM,
    clock: Clock = system_clock,
) -> UserInfo:
    """Rename, change the role of, disable or enable a user, or set a new password.

    Disabling and a new password end the user's sessions; a new password lifts a lock-out.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user '{user_id}' does not exist")
    new_role = role_named(role) if role is not None else None
    if password is not None:
        check_password_strength(password)
    _refuse_escalation(actor, permissions_of(user.role), what="change a user with")
    if actor.kind == "user" and actor.id == user.id and (role is not None or disabled):
        raise Conflict("you cannot change the role of, or disable, your own account")

    def audit(action: str, detail: dict[str, object] | None = None) -> None:
        record_audit(
            session,
            actor=actor,
            action=action,
            subject_type="user",
            subject_id=user.id,
            detail=detail,
            clock=clock,
        )

    if name is not None and name.strip() != user.name:
        if not name.strip():
            raise InvalidInput("name must not be blank")
        user.name = name.strip()
        audit("user.updated", {"fields": ["name"]})
    if new_role is not None and new_role.name != user.role:
        _refuse_escalation(actor, new_role.permissions, what="give a user")
        audit("user.role_changed", {"from": user.role, "to": new_role.name})
        user.role = new_role.name
    if disabled is not None and disabled != user.disabled:
        user.disabled = disabled
        audit("user.disabled" if disabled else "user.enabled")
        if disabled:
            end_sessions_of(session, user_id=user.id)
    if password is not None:
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        audit("user.password_reset")
        end_sessions_of(session, user_id=user.id)
    session.flush()
    return user_info(user)


def _refuse_escalation(actor: Principal, granted: frozenset[str], *, what: str) -> None:
    """Raise Forbidden when the actor would hand out, or act on, permissions it lacks."""
    missing = actor.missing(granted)
    if missing:
        raise Forbidden(
            f"you cannot {what} permissions you do not have: "
            + ", ".join("* (every permission)" if p == "*" else p for p in missing)
        )


def _key_principal(row: ApiKey) -> Principal:
    return Principal(
        kind="api_key",
        id=row.id,
        name=row.name,
        role=row.role,
        permissions=permissions_of(row.role, row.scopes),
    )


def _key_info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        role=row.role,
        scopes=row.scopes,
        permissions=sorted(expand(_key_principal(row).permissions)),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
