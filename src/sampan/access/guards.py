"""Authenticate management requests and check permissions: ``require("consent:write")``.

Every /api route depends on ``require(...)``; ``ensure_guarded`` refuses to build an app
with a route that does not, so a new router cannot be exposed by mistake.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from sampan.access import service
from sampan.access.login_limits import LoginRateLimiter
from sampan.access.schemas import Grant, LoginPolicy, Principal
from sampan.core.clock import Clock, system_clock
from sampan.core.credentials import CredentialCache
from sampan.core.errors import Forbidden, Unauthorized
from sampan.core.secrets import hash_secret
from sampan.db.engine import Database
from sampan.settings import Settings

SESSION_COOKIE = "sampan_session"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC_PATHS = frozenset({"/api/auth/login"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A management API key (sk_...)")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="SessionCookie",
    description="The console's session, set by POST /api/auth/login; writes also need the "
    "login answer's csrf_token in the X-CSRF-Token header",
)


@dataclass(frozen=True)
class AccessRuntime:
    """What the guards need from the running app: credential caches, policy and a clock."""

    keys: CredentialCache[Grant]
    sessions: CredentialCache[Grant]
    audit: service.AuditBatcher
    login_limiter: LoginRateLimiter
    policy: LoginPolicy
    cookie_secure: bool
    clock: Clock

    def forget_credentials(self) -> None:
        """Drop every cached key and session check: a revocation takes effect at once."""
        self.keys.clear()
        self.sessions.clear()


def build_access_runtime(
    db: Database,
    settings: Settings,
    *,
    views_db: Database | None = None,
    clock: Clock = system_clock,
) -> AccessRuntime:
    """Return the access runtime of an app serving this database.

    ``views_db`` records who viewed what; on SQLite it commits with synchronous=NORMAL,
    so a power cut (not a crash) may lose the last views. Changes are audited in their own
    transaction, on ``db``.
    """

    def check_api_key(api_key: str) -> Grant:
        with db.reading() as session:
            return service.authenticate_api_key(session, api_key=api_key)

    def check_session(token: str) -> Grant:
        with db.reading() as session:
            return service.authenticate_session(session, token=token)

    return AccessRuntime(
        keys=CredentialCache(check_api_key),
        sessions=CredentialCache(check_session),
        audit=service.AuditBatcher(views_db or db, clock=clock),
        login_limiter=LoginRateLimiter(per_minute=settings.login_attempts_per_minute),
        policy=LoginPolicy(
            session_ttl_minutes=settings.session_ttl_minutes,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
        ),
        cookie_secure=settings.session_cookie_secure,
        clock=clock,
    )


def access_runtime(request: Request) -> AccessRuntime:
    """Return the access runtime create_app stored on the app."""
    runtime = request.app.state.access
    assert isinstance(runtime, AccessRuntime)
    return runtime


async def audit_log(request: Request) -> service.AuditBatcher:
    """Return the app's audit writer for reads, which share group commits."""
    return access_runtime(request).audit


async def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """Return who is calling, from a Bearer API key or the console's session cookie.

    Cookie-authenticated writes must echo the session's CSRF token: a browser attaches the
    cookie to any request, but only the console's own script can read the token.
    """
    runtime = access_runtime(request)
    if bearer is not None:
        grant = runtime.keys.authenticate(bearer.credentials)
        if grant.expires_at is not None and grant.expires_at <= runtime.clock():
            raise Unauthorized(
                f"this API key expired at {grant.expires_at.strftime('%Y-%m-%d %H:%M')} UTC"
            )
    elif cookie:
        grant = runtime.sessions.authenticate(cookie)
        if grant.expires_at is not None and grant.expires_at <= runtime.clock():
            raise Unauthorized("your session has ended: log in again")
        if request.method not in _SAFE_METHODS:
            _check_csrf(request, grant)
    else:
        raise Unauthorized(
            "missing API key: send 'Authorization: Bearer <api key>', or log in to the console"
        )
    request.state.principal = grant.principal
    return grant.principal


def _check_csrf(request: Request, grant: Grant) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or grant.csrf_hash is None:
        raise Forbidden(
            f"missing CSRF token: send the csrf_token of the login answer in {CSRF_HEADER}"
        )
    if not hmac.compare_digest(hash_secret(sent), grant.csrf_hash):
        raise Forbidden(f"wrong CSRF token in {CSRF_HEADER}: use this session's login answer")


class PermissionGuard:
    """A dependency that authenticates the caller and checks its permissions."""

    def __init__(self, permissions: frozenset[str]) -> None:
        self.permissions = permissions

    async def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        """Return the caller, or raise Forbidden naming the first permission it lacks."""
        missing = principal.missing(self.permissions)
        if missing:
            raise Forbidden(f"permission '{missing[0]}' is needed: {_who(principal)} lacks it")
        return principal


def require(*permissions: str) -> Any:
    """Return a dependency giving the authenticated caller, who must hold every permission.

    Use as ``actor: Annotated[Principal, require("consent:write")]``, or in a route's
    ``dependencies=[require("profiles:read")]``; ``require()`` only authenticates.
    """
    return Depends(PermissionGuard(frozenset(str(p) for p in permissions)))


def ensure_guarded(app: FastAPI, *, public: frozenset[str] = PUBLIC_PATHS) -> None:
    """Raise RuntimeError when a route under /api does not depend on ``require``."""
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue
        if route.path in public:
            continue
        if not any(isinstance(d.call, PermissionGuard) for d in _dependencies(route.dependant)):
            methods = ",".join(sorted(route.methods or ()))
            raise RuntimeError(
                f"route {methods} {route.path} has no permission check: "
                "add a require(...) dependency (sampan.access.guards)"
            )


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def _who(principal: Principal) -> str:
    if principal.kind == "api_key":
        return f"this API key (role {principal.role or 'none'})"
    if principal.kind == "user":
        return f"your role '{principal.role or 'none'}'"
    return f"{principal.kind} '{principal.id}'"
