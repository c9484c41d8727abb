"""Shapes of the Customer 360 API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sampan.collect.schemas import CollectedEvent
from sampan.identity.schemas import DecisionOut, IdentifierOut, MergeOut


@dataclass(frozen=True)
class PipelineBatch:
    """What one pipeline batch did, for other domains to react to in the same transaction."""

    events: Sequence[CollectedEvent]
    # event seq -> profile id
    attribution: Mapping[int, str]
    # (survivor id, merged-away id) of every merge the batch caused
    merges: Sequence[tuple[str, str]]
    # every surviving profile whose state the batch changed
    touched: frozenset[str]


@dataclass(frozen=True)
class ProfileFacts:
    """What segments select on: a profile's traits and figures, in plain types."""

    profile_id: str
    traits: dict[str, Any]
    first_seen_ms: int | None
    last_seen_ms: int | None
    event_count: int
    order_count: int
    # in the workspace currency's minor units (satang)
    total_spent: int
    last_order_ms: int | None
    identifier_types: tuple[str, ...]
    bought_categories: tuple[str, ...] = ()


class Person(BaseModel):
    """A person's surviving profile, every profile merged into it, and whether it was erased."""

    profile_id: str
    profile_ids: list[str]
    erased_at: datetime | None
    locale: str | None


class NoteOut(BaseModel):
    """A staff note."""

    id: int
    author: str
    body: str
    created_at: datetime


class NoteCreate(BaseModel):
    """Request to add a staff note."""

    body: str = Field(min_length=1, max_length=10_000)
    author: str = Field(default="staff", min_length=1, max_length=200)


class AttributesUpdate(BaseModel):
    """Custom attributes to set (a null value removes the attribute)."""

    attributes: dict[str, Any] = Field(min_length=1)


class UnmergeRequest(BaseModel):
    """Which merge to undo; the newest when omitted."""

    merge_id: int | None = None


class ProfileSummary(BaseModel):
    """A profile as listed in search results."""

    id: str
    display_name: str | None
    traits: dict[str, Any]
    computed: dict[str, Any]


class Profile360(BaseModel):
    """The Customer 360: identities, traits, computed traits, attributes, notes, history."""

    id: str
    display_name: str | None
    identities: list[IdentifierOut]
    traits: dict[str, Any]
    custom_attributes: dict[str, Any]
    computed: dict[str, Any]
    notes: list[NoteOut]
    merges: list[MergeOut]
    unlinked_identifiers: list[DecisionOut]
    created_at: datetime
    updated_at: datetime


class TimelineItem(BaseModel):
    """One event on a profile's timeline."""

    seq: int
    type: str
    name: str | None
    channel: str
    timestamp: datetime
    received_at: datetime
    source_id: str
    message: dict[str, Any]


class TimelinePage(BaseModel):
    """A page of the timeline, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    items: list[TimelineItem]
    next_cursor: str | None


class SearchPage(BaseModel):
    """A page of search results."""

    items: list[ProfileSummary]
    total: int


class PipelineProgress(BaseModel):
    """What one pass of the event pipeline did."""

    processed: int
    last_seq: int
    lags_ms: list[int]


class PipelineStatus(BaseModel):
    """How far behind the event log the profiles are."""

    processed_seq: int
    head_seq: int
    backlog: int


class UnmergeResult(BaseModel):
    """The two profiles after an un-merge."""

    survivor: Profile360
    restored: Profile360
    moved_events: int
