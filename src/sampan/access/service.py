"""Issue, check and revoke management API keys."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sampan.access.models import ApiKey
from sampan.access.schemas import ApiKeyInfo, IssuedApiKey
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import NotFound, Unauthorized
from sampan.core.ids import new_id
from sampan.core.secrets import hash_secret, new_secret


def issue_api_key(session: Session, *, name: str, clock: Clock = system_clock) -> IssuedApiKey:
    """Create an API key and return it with its secret, which is not stored."""
    secret = new_secret("sk")
    row = ApiKey(
        id=new_id("key"),
        name=name,
        key_hash=hash_secret(secret),
        prefix=secret[:10],
        created_at=clock(),
    )
    session.add(row)
    session.flush()
    return IssuedApiKey(**_info(row).model_dump(), api_key=secret)


def authenticate_api_key(session: Session, *, api_key: str) -> ApiKeyInfo:
    """Return the key's record, or raise Unauthorized when it is unknown or revoked."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_secret(api_key)))
    if row is None:
        raise Unauthorized("invalid API key")
    if row.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    return _info(row)


def revoke_api_key(session: Session, *, key_id: str, clock: Clock = system_clock) -> ApiKeyInfo:
    """Revoke a key so it is refused from now on."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key '{key_id}' does not exist")
    if row.revoked_at is None:
        row.revoked_at = clock()
    return _info(row)


def count_api_keys(session: Session) -> int:
    """Return how many API keys were ever issued (0 means an uninitialised workspace)."""
    return session.scalar(select(func.count()).select_from(ApiKey)) or 0


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
