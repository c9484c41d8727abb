"""Shapes identity returns, and the events it publishes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class IdentifierOut(BaseModel):
    """A normalised identifier as shown on a profile."""

    type: str
    value: str


class ProfilesMerged(BaseModel):
    """Domain event: ``merged_id`` now belongs to ``survivor_id``."""

    merge_id: int
    survivor_id: str
    merged_id: str
    event_seq: int | None


class MergeOut(BaseModel):
    """One entry of a profile's merge history."""

    id: int
    survivor_id: str
    merged_id: str
    event_seq: int | None
    merged_at: datetime
    undone_at: datetime | None
    moved: list[IdentifierOut]
    trigger: list[IdentifierOut]


class DecisionOut(BaseModel):
    """An identifier that was not linked, and why (``limit`` or ``unmerged``)."""

    event_seq: int | None
    type: str
    value: str
    reason: str
    decided_at: datetime


class BatchResolution(BaseModel):
    """What resolving a batch of events did: the profile of each event, and the merges."""

    attribution: dict[int, str]
    created: list[str]
    merges: list[ProfilesMerged]


class ProfilesUnmerged(BaseModel):
    """Domain event: ``restored_id`` was split back out of ``survivor_id``."""

    merge_id: int
    survivor_id: str
    restored_id: str
    moved: list[IdentifierOut]
