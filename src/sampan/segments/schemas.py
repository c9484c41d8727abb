"""Shapes segments accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SegmentInput(BaseModel):
    """A segment to create, or the new version of one."""

    name: str = Field(min_length=1, max_length=200, examples=["ลูกค้า VIP ซื้อเซรั่ม"])
    description: str = Field(default="", max_length=2000)
    condition: dict[str, Any] = Field(
        description="A condition tree: see GET /api/segments/schema and docs/segments.md",
        examples=[
            {
                "all": [
                    {
                        "event": "Order Completed",
                        "count": {"op": "gte", "value": 2},
                        "within_days": 90,
                    },
                    {"computed": "bought_category", "op": "eq", "value": "serum"},
                    {"consent": {"purpose": "marketing", "channel": "line"}},
                ]
            }
        ],
    )


class PreviewInput(BaseModel):
    """A condition to try before saving it."""

    condition: dict[str, Any]
    sample: int = Field(default=10, ge=0, le=100)


class SampleMember(BaseModel):
    """A profile shown in a preview or a member list."""

    profile_id: str
    display_name: str | None
    since: datetime | None = None


class Preview(BaseModel):
    """How many people a condition selects now, and a few of them."""

    count: int
    sample: list[SampleMember]


class SegmentOut(BaseModel):
    """A segment with its current size."""

    id: str
    # The ready-made segment's stable key (``vip``, ``rfm_champions``...); None for custom ones.
    key: str | None = None
    name: str
    description: str
    condition: dict[str, Any]
    version: int
    time_based: bool
    size: int
    created_at: datetime
    updated_at: datetime


class MemberPage(BaseModel):
    """A page of members in profile id order."""

    items: list[SampleMember]
    total: int
    next_cursor: str | None


class SizePoint(BaseModel):
    """The size of a segment at a moment."""

    at: datetime
    size: int


class EvaluationReport(BaseModel):
    """What a full evaluation changed: entered and exited per segment."""

    segments: int
    entered: int
    exited: int


class PeopleOverview(BaseModel):
    """Everyone at a glance, and the lifecycle funnel from awareness to advocacy."""

    people: int
    identified: int
    # Funnel: everyone (awareness), viewed or carted a product (consideration), bought once
    # (purchase), bought twice or more (retention), VIP by the lifecycle thresholds (advocacy).
    considering: int
    buyers: int
    repeat_buyers: int
    vip: int
    revenue_minor: int
    orders: int


class Tally(BaseModel):
    """How many people carry one label (a lifecycle stage, an inactivity bucket)."""

    label: str
    people: int


class RfmGroupFigures(BaseModel):
    """One RFM group: its size and what its people have in common."""

    group: str
    people: int
    avg_orders: float
    # baht (major units), two decimals
    avg_spent: float
    avg_days_since_order: float


class RfmCell(BaseModel):
    """One cell of the 5 x 5 grid: recency score against the frequency-monetary score."""

    recency: int
    fm: int
    group: str
    people: int


class Insights(BaseModel):
    """RFM and lifecycle views of everyone who may be processed (blocked people left out)."""

    people: int
    buyers: int
    rfm_groups: list[RfmGroupFigures]
    rfm_grid: list[RfmCell]
    lifecycle: list[Tally]
    inactivity: list[Tally]
    at: datetime


class EventVocabulary(BaseModel):
    """An event name seen in the read model, how many people did it, and its property names."""

    name: str
    people: int
    properties: list[str]


class Vocabulary(BaseModel):
    """The names a condition can use in this workspace, for builders and autocompletion."""

    computed: dict[str, str]
    lifecycle_stages: list[str]
    rfm_groups: list[str]
    inactivity: list[str]
    identifier_types: list[str]
    purposes: dict[str, list[str]]
    events: list[EventVocabulary]
