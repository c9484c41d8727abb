"""Shapes collect returns and accepts on its management API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SourceKind = Literal["web", "app", "pos", "line", "facebook", "email", "callcenter", "server"]


class SourceInfo(BaseModel):
    """A source as listed: never its write key."""

    id: str
    name: str
    kind: SourceKind
    enabled: bool
    write_key_prefix: str
    created_at: datetime


class IssuedSource(SourceInfo):
    """A freshly created source: the only time its write key is visible."""

    write_key: str


class SourceCreate(BaseModel):
    """Request to create a source."""

    name: str = Field(min_length=1, max_length=200)
    kind: SourceKind


class SourceUpdate(BaseModel):
    """Request to enable or disable a source."""

    enabled: bool


class CollectedEvent(BaseModel):
    """One event of the log, with its full normalised Segment message."""

    seq: int
    source_id: str
    message_id: str
    type: str
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    channel: str
    timestamp: datetime
    received_at: datetime
    message: dict[str, Any]
