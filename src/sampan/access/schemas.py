"""Shapes access returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ApiKeyInfo(BaseModel):
    """An API key as listed: never the secret itself."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedApiKey(ApiKeyInfo):
    """A freshly issued key: the only time the secret is visible."""

    api_key: str
