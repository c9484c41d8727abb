"""Shapes journeys accepts and returns, and what the engine needs from the running process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sampan.consent.service import PurposeCatalog
from sampan.core.clock import Clock
from sampan.messaging.service import MessagingRules
from sampan.segments.service import CompileContext

JourneyStatus = Literal["draft", "live", "paused", "archived"]
RunStatus = Literal["active", "completed", "exited", "held_out", "failed"]


@dataclass(frozen=True)
class JourneyEnv:
    """What running journeys needs from the process: sending rules, segments, clock."""

    messaging: MessagingRules
    catalog: PurposeCatalog
    currency: str
    timezone: str
    segment_context: Callable[[], CompileContext]
    clock: Clock


class JourneyInput(BaseModel):
    """A journey to create, or a new draft of one."""

    name: str = Field(min_length=1, max_length=200, examples=["ตะกร้าค้าง"])
    description: str = Field(default="", max_length=2000)
    definition: dict[str, Any] = Field(description="the journey graph: see docs/journeys.md")


class JourneyOut(BaseModel):
    """A journey, its draft and the version that runs."""

    id: str
    name: str
    description: str
    status: JourneyStatus
    version: int
    draft: dict[str, Any]
    playbook: str | None
    created_at: datetime
    updated_at: datetime


class ProblemOut(BaseModel):
    """One thing wrong with a definition, where it is."""

    path: str
    message: str


class ValidationOut(BaseModel):
    """Whether a definition can be published, and what stops it."""

    valid: bool
    problems: list[ProblemOut]


class StepOut(BaseModel):
    """A node a run passed."""

    node_id: str
    outcome: str
    detail: str | None
    at: datetime


class RunOut(BaseModel):
    """One person's run through a journey."""

    id: str
    journey_id: str
    version: int
    profile_id: str
    status: RunStatus
    node_id: str | None
    waiting: bool
    due_at: datetime | None
    entry_key: str | None
    entered_at: datetime
    finished_at: datetime | None
    reason: str | None
    goal_at: datetime | None
    revenue: float | None
    path: str | None
    steps: list[StepOut] = Field(default_factory=list)


class NodeCounts(BaseModel):
    """How many runs reached a node, are there now, and how each left it."""

    node_id: str
    type: str
    entered: int
    waiting: int
    outcomes: dict[str, int]
    converted: dict[str, int] = Field(
        default_factory=dict, description="runs that reached the goal, by outcome here"
    )
    messages: dict[str, int] = Field(default_factory=dict)


class ArmOut(BaseModel):
    """Conversion of one group: the journey's treatment, a split path, or the holdout."""

    arm: str
    runs: int
    converted: int
    conversion_rate: float
    revenue: float


class UpliftOut(BaseModel):
    """Treatment against holdout: difference in conversion rate, its 95% CI and p-value."""

    arm: str
    absolute: float
    relative: float | None
    ci_low: float
    ci_high: float
    p_value: float | None


class JourneyMetrics(BaseModel):
    """Counts per journey and node, conversions and uplift against the holdout."""

    journey_id: str
    entered: int
    active: int
    waiting: int
    completed: int
    exited: int
    held_out: int
    failed: int
    nodes: list[NodeCounts]
    arms: list[ArmOut]
    uplift: list[UpliftOut]
    messages: dict[str, int]


class TaskOut(BaseModel):
    """Work a journey created for a team."""

    id: str
    journey_id: str
    run_id: str
    profile_id: str
    team: str
    title: str
    status: Literal["open", "done"]
    due_at: datetime | None
    created_at: datetime
    done_at: datetime | None


class CouponOut(BaseModel):
    """A coupon a journey issued, and whether it was used."""

    code: str
    journey_id: str
    profile_id: str
    percent: float | None
    amount: float | None
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    order_id: str | None


class RedeemInput(BaseModel):
    """The order a coupon is used for."""

    order_id: str = Field(min_length=1, max_length=200)


class SimulatedTrigger(BaseModel):
    """The event that starts the simulated run."""

    event: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class LaterEvent(BaseModel):
    """An event the simulated person does some time after entering."""

    after: str = Field(examples=["30m"], description="a duration after entry, e.g. 30m, 2d")
    event: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class SimulationInput(BaseModel):
    """Who to simulate, what they do later, and how far to look ahead."""

    profile_id: str | None = Field(default=None, description="a real person; else synthetic")
    trigger: SimulatedTrigger | None = None
    events: list[LaterEvent] = Field(default_factory=list, max_length=100)
    branches: dict[str, Literal["yes", "no"]] = Field(
        default_factory=dict, description="forced branch outcomes by node id"
    )
    version: int | None = Field(
        default=None, ge=1, description="a published version; else the draft"
    )
    horizon: str = Field(default="90d")


class SimulatedStep(BaseModel):
    """A node the simulated run passed."""

    node_id: str
    outcome: str
    detail: str | None
    at: datetime
    offset: str


class SimulatedMessage(BaseModel):
    """A message the run would queue, rendered per channel kind for a real person."""

    node_id: str
    at: datetime
    offset: str
    template: str
    channels: list[str]
    category: str
    coupon_code: str | None
    preview: dict[str, Any]


class SimulatedEvent(BaseModel):
    """An event or profile update the run would write."""

    type: str
    event: str | None
    traits: dict[str, Any] | None


class SimulationOut(BaseModel):
    """Where the simulated run ended, the path it took and what it would have sent."""

    status: Literal["completed", "exited", "held_out", "failed", "waiting"]
    reason: str | None
    converted_at: datetime | None
    path: list[SimulatedStep]
    messages: list[SimulatedMessage]
    events: list[SimulatedEvent]
    coupons: list[str]
    tasks: list[str]


class PlaybookOut(BaseModel):
    """A shipped playbook, ready to install."""

    key: str
    name: str
    description: str
    entry: str
    nodes: int
    templates: list[str]
    channels: list[str] = Field(
        default_factory=list,
        description="the channel kinds its send nodes use (line, email, sms), first use first",
    )
    events: list[str] = Field(
        default_factory=list,
        description="the event names it reacts to: entry, waits, goal and exit events",
    )


class PlaybookInstall(BaseModel):
    """How to install a playbook in this workspace."""

    channels: dict[Literal["line", "email", "sms"], str] = Field(
        default_factory=dict,
        description="channel name per kind; by default the first channel of each kind",
        examples=[{"line": "line-oa", "email": "email"}],
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    publish: bool = False
