"""HTTP routes of access: API keys under /api/keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from sampan.access import service
from sampan.access.schemas import ApiKeyInfo, IssuedApiKey
from sampan.db.engine import Database
from sampan.db.requests import database

router = APIRouter(prefix="/api/keys", tags=["access"])


class ApiKeyCreate(BaseModel):
    """Request to issue an API key."""

    name: str = Field(min_length=1, max_length=200)


@router.post("", response_model=IssuedApiKey, status_code=201, summary="Issue an API key")
def issue(body: ApiKeyCreate, db: Annotated[Database, Depends(database)]) -> IssuedApiKey:
    """Issue a management API key; the secret is in this response only."""
    with db.transaction() as session:
        return service.issue_api_key(session, name=body.name)


@router.delete("/{key_id}", response_model=ApiKeyInfo, summary="Revoke an API key")
def revoke(key_id: str, request: Request, db: Annotated[Database, Depends(database)]) -> ApiKeyInfo:
    """Revoke a key; it is refused from the next request on."""
    with db.transaction() as session:
        info = service.revoke_api_key(session, key_id=key_id)
    request.app.state.api_keys.clear()
    return info
