"""Console log-in: passwords, lock-out after repeated failures, sessions and their CSRF tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sampan.access.audit import record_audit
from sampan.access.models import User, UserSession
from sampan.access.passwords import (
    hash_password,
    needs_rehash,
    password_matches,
    spend_verification_time,
)
from sampan.access.roles import permissions_of
from sampan.access.schemas import (
    ANONYMOUS,
    Grant,
    LoginAnswer,
    LoginPolicy,
    Principal,
    StartedSession,
    UserInfo,
)
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import Unauthorized
from sampan.core.ids import new_id
from sampan.core.secrets import hash_secret, new_secret
from sampan.db.engine import Database

WRONG_CREDENTIALS = "wrong e-mail or password"


def normalise_email(email: str) -> str:
    """Return the address as users are stored: trimmed and lower-cased."""
    return email.strip().lower()


def user_principal(user: User) -> Principal:
    """Return the principal a console user acts as."""
    return Principal(
        kind="user",
        id=user.id,
        name=user.name,
        role=user.role,
        permissions=permissions_of(user.role),
    )


def user_info(user: User) -> UserInfo:
    """Return the user as the API shows it."""
    return UserInfo(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        disabled=user.disabled,
        locked_until=user.locked_until,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


@dataclass(frozen=True)
class _Attempt:
    user_id: str | None
    password_ok: bool
    password: str


def login(
    db: Database,
    *,
    email: str,
    password: str,
    policy: LoginPolicy,
    clock: Clock = system_clock,
) -> StartedSession:
    """Start a session for the user, or raise Unauthorized after recording the failure.

    The password is checked outside the write transaction: argon2 takes tens of
    milliseconds, and SQLite's single write lock is shared with ingestion.
    """
    with db.reading() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        stored_hash = user.password_hash if user else None
        user_id = user.id if user else None
    if stored_hash is None:
        spend_verification_time(password)
        password_ok = False
    else:
        password_ok = password_matches(stored_hash, password)
    with db.transaction() as session:
        started, refusal = _settle(
            session, _Attempt(user_id, password_ok, password), policy=policy, now=clock()
        )
    if started is None:
        raise Unauthorized(refusal)
    return started


def _settle(
    session: Session, attempt: _Attempt, *, policy: LoginPolicy, now: datetime
) -> tuple[StartedSession | None, str]:
    """Record the attempt's outcome; the failure counters must commit even when refused."""
    user = session.get(User, attempt.user_id, with_for_update=True) if attempt.user_id else None
    if user is None:
        _audit_login(session, ANONYMOUS, "login.failed", None, {"reason": "unknown_email"}, now)
        return None, WRONG_CREDENTIALS
    actor = user_principal(user)
    if user.locked_until is not None and user.locked_until > now:
        _audit_login(session, actor, "login.failed", user.id, {"reason": "locked"}, now)
        return None, _locked_message(user.locked_until, policy)
    if not attempt.password_ok:
        return None, _count_failure(session, user, actor, policy, now)
    if user.disabled:
        _audit_login(session, actor, "login.failed", user.id, {"reason": "disabled"}, now)
        return None, "this account is disabled: ask an admin to enable it"
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(attempt.password)
    session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    token, csrf_token = new_secret("ss"), secrets.token_urlsafe(32)
    row = UserSession(
        id=new_id("ses"),
        user_id=user.id,
        token_hash=hash_secret(token),
        csrf_hash=hash_secret(csrf_token),
        created_at=now,
        expires_at=now + timedelta(minutes=policy.session_ttl_minutes),
    )
    session.add(row)
    _audit_login(session, actor, "login.succeeded", user.id, {"session_id": row.id}, now)
    answer = LoginAnswer(user=user_info(user), csrf_token=csrf_token, expires_at=row.expires_at)
    return StartedSession(token=token, answer=answer), ""


def _count_failure(
    session: Session, user: User, actor: Principal, policy: LoginPolicy, now: datetime
) -> str:
    user.failed_logins += 1
    if user.failed_logins < policy.max_failures:
        detail = {"reason": "wrong_password", "consecutive_failures": user.failed_logins}
        _audit_login(session, actor, "login.failed", user.id, detail, now)
        return WRONG_CREDENTIALS
    # The counter starts again, so once the lock lifts one more mistake does not re-lock.
    user.failed_logins = 0
    user.locked_until = now + timedelta(minutes=policy.lockout_minutes)
    detail = {"consecutive_failures": policy.max_failures, "until": user.locked_until.isoformat()}
    _audit_login(session, actor, "login.locked", user.id, detail, now)
    return _locked_message(user.locked_until, policy)


def _locked_message(until: datetime, policy: LoginPolicy) -> str:
    return (
        f"this account is locked after {policy.max_failures} failed log-ins in a row, until "
        f"{until.strftime('%Y-%m-%d %H:%M')} UTC: wait, or ask an admin to reset the password"
    )


def _audit_login(
    session: Session,
    actor: Principal,
    action: str,
    user_id: str | None,
    detail: dict[str, object],
    now: datetime,
) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=user_id,
        detail=detail,
        clock=lambda: now,
    )


def authenticate_session(session: Session, *, token: str) -> Grant:
    """Return what a session cookie grants, or raise Unauthorized when it is unknown."""
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_secret(token))
    ).first()
    if found is None:
        raise Unauthorized("your session has ended: log in again")
    row, user = found
    if user.disabled:
        raise Unauthorized("this account is disabled: ask an admin to enable it")
    return Grant(principal=user_principal(user), expires_at=row.expires_at, csrf_hash=row.csrf_hash)


def end_session(session: Session, *, token: str) -> None:
    """End the session of this cookie token, so it is refused from now on."""
    session.execute(delete(UserSession).where(UserSession.token_hash == hash_secret(token)))


def end_sessions_of(session: Session, *, user_id: str) -> None:
    """End every session of a user (disabled, or given a new password)."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
