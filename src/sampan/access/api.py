"""HTTP routes of access: log-in, users, API keys, roles and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from sampan.access import service
from sampan.access.guards import SESSION_COOKIE, access_runtime, require
from sampan.access.schemas import (
    ApiKeyCreate,
    ApiKeyInfo,
    AuditPage,
    IssuedApiKey,
    LoginAnswer,
    LoginRequest,
    Permission,
    Principal,
    PrincipalInfo,
    RoleInfo,
    UserCreate,
    UserInfo,
    UserUpdate,
)
from sampan.core.errors import InvalidInput
from sampan.db.engine import Database
from sampan.db.requests import database

Db = Annotated[Database, Depends(database)]
auth_router = APIRouter(prefix="/api/auth", tags=["access"])
users_router = APIRouter(prefix="/api/users", tags=["access"])
keys_router = APIRouter(prefix="/api/keys", tags=["access"])
audit_router = APIRouter(prefix="/api/audit", tags=["access"])
roles_router = APIRouter(prefix="/api/roles", tags=["access"])
routers = (auth_router, users_router, keys_router, audit_router, roles_router)


@auth_router.post("/login", response_model=LoginAnswer, summary="Log in to the console")
def log_in(body: LoginRequest, request: Request, response: Response, db: Db) -> LoginAnswer:
    """Start a console session: sets an HttpOnly cookie and returns the CSRF token for writes."""
    runtime = access_runtime(request)
    runtime.login_limiter.attempt(request.client.host if request.client else "unknown")
    started = service.login(
        db, email=body.email, password=body.password, policy=runtime.policy, clock=runtime.clock
    )
    response.set_cookie(
        SESSION_COOKIE,
        started.token,
        max_age=runtime.policy.session_ttl_minutes * 60,
        path="/",
        httponly=True,
        samesite="strict",
        secure=runtime.cookie_secure,
    )
    return started.answer


@auth_router.post("/logout", status_code=204, summary="Log out of the console")
def log_out(
    request: Request, response: Response, db: Db, _: Annotated[Principal, require()]
) -> None:
    """End this console session; its cookie is refused from now on."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise InvalidInput("no console session to end: this request carries no session cookie")
    with db.transaction() as session:
        service.end_session(session, token=token)
    access_runtime(request).sessions.clear()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@auth_router.get("/me", response_model=PrincipalInfo, summary="Who am I")
def me(actor: Annotated[Principal, require()]) -> PrincipalInfo:
    """Return the caller: user or API key, role and permissions."""
    return service.describe_principal(actor)


@roles_router.get("", response_model=list[RoleInfo], summary="List roles")
def list_roles(_: Annotated[Principal, require()]) -> list[RoleInfo]:
    """Return every role and the permissions it grants."""
    return service.list_roles()


@users_router.get("", response_model=list[UserInfo], summary="List console users")
def list_users(db: Db, _: Annotated[Principal, require(Permission.USERS_MANAGE)]) -> list[UserInfo]:
    """List console users, oldest first."""
    with db.reading() as session:
        return service.list_users(session)


@users_router.post("", response_model=UserInfo, status_code=201, summary="Create a user")
def create_user(
    body: UserCreate, db: Db, actor: Annotated[Principal, require(Permission.USERS_MANAGE)]
) -> UserInfo:
    """Create a console user with a role and an initial password (10 characters or more)."""
    with db.transaction() as session:
        return service.create_user(
            session,
            email=body.email,
            name=body.name,
            role=body.role,
            password=body.password,
            actor=actor,
        )


@users_router.patch("/{user_id}", response_model=UserInfo, summary="Change a user")
def update_user(
    user_id: str,
    body: UserUpdate,
    request: Request,
    db: Db,
    actor: Annotated[Principal, require(Permission.USERS_MANAGE)],
) -> UserInfo:
    """Change a user's name or role, disable or enable them, or set a new password."""
    with db.transaction() as session:
        info = service.update_user(
            session,
            user_id=user_id,
            name=body.name,
            role=body.role,
            disabled=body.disabled,
            password=body.password,
            actor=actor,
        )
    access_runtime(request).sessions.clear()
    return info


@keys_router.get("", response_model=list[ApiKeyInfo], summary="List API keys")
def list_keys(db: Db, _: Annotated[Principal, require(Permission.KEYS_MANAGE)]) -> list[ApiKeyInfo]:
    """List every API key ever issued, oldest first; secrets are never shown again."""
    with db.reading() as session:
        return service.list_api_keys(session)


@keys_router.post("", response_model=IssuedApiKey, status_code=201, summary="Issue an API key")
def issue(
    body: ApiKeyCreate, db: Db, actor: Annotated[Principal, require(Permission.KEYS_MANAGE)]
) -> IssuedApiKey:
    """Issue a key with a role, optional scopes and expiry; the secret is in this answer only."""
    with db.transaction() as session:
        return service.issue_api_key(
            session,
            name=body.name,
            role=body.role,
            scopes=body.scopes,
            expires_at=body.expires_at,
            issuer=actor,
        )


@keys_router.delete("/{key_id}", response_model=ApiKeyInfo, summary="Revoke an API key")
def revoke(
    key_id: str,
    request: Request,
    db: Db,
    actor: Annotated[Principal, require(Permission.KEYS_MANAGE)],
) -> ApiKeyInfo:
    """Revoke a key; it is refused from the next request on."""
    with db.transaction() as session:
        info = service.revoke_api_key(session, key_id=key_id, actor=actor)
    access_runtime(request).keys.clear()
    return info


@audit_router.get("", response_model=AuditPage, summary="Read the audit log")
def read_audit(
    db: Db,
    _: Annotated[Principal, require(Permission.AUDIT_READ)],
    actor_id: str | None = None,
    action: Annotated[str | None, Query(description="e.g. profile.viewed, or login.*")] = None,
    subject_id: str | None = None,
    since: Annotated[datetime | None, Query(description="From this moment on")] = None,
    until: Annotated[datetime | None, Query(description="Before this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> AuditPage:
    """Return audit entries, newest first, filtered by actor, action, subject or time."""
    with db.reading() as session:
        return service.list_audit(
            session,
            actor_id=actor_id,
            action=action,
            subject_id=subject_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
