"""Shapes collect returns and accepts on its management API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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


@dataclass(frozen=True, slots=True)
class CollectedEvent:
    """One event of the log, with its full normalised Segment message.

    A plain dataclass, not a pydantic model: the pipeline reads thousands a second and
    the rows were validated on the way in.
    """

    seq: int
    source_id: str
    message_id: str
    type: str
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    channel: str
    timestamp_ms: int
    received_ms: int
    message: dict[str, Any]

    @property
    def timestamp(self) -> datetime:
        """When the event happened (client time corrected for clock skew), UTC."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    @property
    def received_at(self) -> datetime:
        """When Sampan accepted the event, UTC."""
        return datetime.fromtimestamp(self.received_ms / 1000, tz=UTC)
