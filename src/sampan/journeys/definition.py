"""The journey graph: its JSON shape, and the checks that make an error name the node.

A definition is plain JSON so that the console, the API and the playbooks share one format:
an entry (what starts a run), optional re-entry, goal and exit rules, and a list of nodes
joined by their ``next`` fields, starting at ``start``. The graph may branch and join but
not loop: every run ends after a bounded number of steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import time as clock_time
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

MAX_NODES = 200
# Steps of a run that no node takes: entering, converting, leaving on an exit rule.
RESERVED_IDS = frozenset({"entry", "goal", "exit"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_MAX_WAIT_SECONDS = 366 * 86_400


def parse_duration(text: str) -> int:
    """Return the seconds in ``"90s"``, ``"30m"``, ``"1h"``, ``"3d"``, ``"2w"`` or ``"1d12h"``."""
    compact = text.replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit s, m, h, d or w, e.g. '1h', "
            "'3d' or '1d12h'"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION.findall(compact))
    if not 0 < seconds <= _MAX_WAIT_SECONDS:
        raise ValueError(f"{text!r} must be more than 0 and at most 366 days")
    return seconds


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _time_of_day(value: str) -> str:
    try:
        clock_time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day: use HH:MM, e.g. '09:00'") from None
    return value


NodeId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$")]
EventName = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PropertyFilter(_Strict):
    """A test on a property of an event, e.g. ``price`` greater than 1000."""

    property: str = Field(min_length=1, max_length=200, examples=["price"])
    op: Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists"]
    value: Any = None


class EventEntry(_Strict):
    """Start a run when the person does an event, optionally once per value of a property."""

    type: Literal["event"]
    event: EventName
    where: list[PropertyFilter] = Field(default_factory=list, max_length=20)
    entry_key: str | None = Field(
        default=None,
        max_length=200,
        description="A property (e.g. orderId): one run per person and value, ever",
    )


class SegmentEntry(_Strict):
    """Start a run when the person enters a segment."""

    type: Literal["segment"]
    segment: str = Field(min_length=1, max_length=60, description="segment id")


class DateEntry(_Strict):
    """Start a run at a local time on a date's anniversary, or N days after a computed time."""

    type: Literal["date"]
    trait: str | None = Field(default=None, min_length=1, max_length=200, examples=["birthday"])
    computed: Literal["last_order_at", "first_seen_at", "last_seen_at"] | None = None
    at: str = Field(default="09:00", examples=["09:00"])
    days_before: int = Field(default=0, ge=0, le=60, description="with trait")
    days_after: int | None = Field(default=None, ge=1, le=3650, description="with computed")

    _check_at = field_validator("at")(_time_of_day)


class ScheduleEntry(_Strict):
    """Start a run for every member of a segment at each tick of a schedule."""

    type: Literal["schedule"]
    segment: str = Field(min_length=1, max_length=60, description="segment id")
    every: Literal["day", "week", "month"]
    at: str = Field(default="09:00", examples=["09:00"])
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None
    day: int | None = Field(default=None, ge=1, le=28)

    _check_at = field_validator("at")(_time_of_day)


EntryRule = Annotated[
    EventEntry | SegmentEntry | DateEntry | ScheduleEntry, Field(discriminator="type")
]


class Reentry(_Strict):
    """Whether a person who ran the journey may start it again."""

    policy: Literal["never", "after", "always"] = "never"
    days: int | None = Field(default=None, ge=1, le=3650)


class Goal(_Strict):
    """What counts as converting: an event within a window after entering."""

    event: EventName
    where: list[PropertyFilter] = Field(default_factory=list, max_length=20)
    window_days: int = Field(default=7, ge=1, le=365)
    exit: bool = Field(default=True, description="leave the journey on converting")
    revenue_property: str = Field(default="revenue", max_length=200)


class ExitRules(_Strict):
    """When a run ends early: on leaving a segment, or on an event."""

    segment_left: str | None = Field(default=None, max_length=60)
    events: list[EventName] = Field(default_factory=list, max_length=20)


class _Node(_Strict):
    id: NodeId
    label: str | None = Field(default=None, max_length=200)
    position: dict[str, float] | None = Field(default=None, description="canvas x, y")


class WaitNode(_Node):
    """Wait for a duration."""

    type: Literal["wait"]
    duration: str
    next: NodeId | None = None

    _check_duration = field_validator("duration")(_duration)


class WaitUntilNode(_Node):
    """Wait until a time of day, optionally on given weekdays, in the person's time zone."""

    type: Literal["wait_until"]
    time: str = Field(examples=["09:00"])
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    next: NodeId | None = None

    _check_time = field_validator("time")(_time_of_day)


class WaitForEventNode(_Node):
    """Wait up to ``timeout`` for an event of the same person; one path each way."""

    type: Literal["wait_for_event"]
    event: EventName
    where: list[PropertyFilter] = Field(default_factory=list, max_length=20)
    timeout: str
    on_event: NodeId | None = None
    on_timeout: NodeId | None = None

    _check_timeout = field_validator("timeout")(_duration)


class BranchNode(_Node):
    """Go one way if the person matches a segment condition now, the other way if not."""

    type: Literal["branch"]
    condition: dict[str, Any] = Field(description="the segment condition language")
    yes: NodeId | None = None
    no: NodeId | None = None


class SplitPath(_Strict):
    """One path of a random split."""

    name: str = Field(min_length=1, max_length=40)
    weight: int = Field(ge=0, le=10_000)
    next: NodeId | None = None


class SplitNode(_Node):
    """Send each run down one path at random, in proportion to the weights."""

    type: Literal["split"]
    paths: list[SplitPath] = Field(min_length=2, max_length=10)


class HoldoutNode(_Node):
    """Keep a share of people out of everything after this node, to measure uplift."""

    type: Literal["holdout"]
    percent: float = Field(gt=0, le=50)
    next: NodeId | None = None


class SendNode(_Node):
    """Send a template through messaging, on the first channel that can reach the person."""

    type: Literal["send"]
    template: str = Field(min_length=1, max_length=200, description="template name or id")
    channels: list[str] = Field(min_length=1, max_length=6, description="channel names")
    category: Literal["marketing", "transactional"] | None = Field(
        default=None, description="by default the template's category"
    )
    next: NodeId | None = None


class UpdateProfileNode(_Node):
    """Set traits on the person (an identify event from the journey)."""

    type: Literal["update_profile"]
    traits: dict[str, Any] = Field(min_length=1)
    next: NodeId | None = None


class CouponNode(_Node):
    """Issue a unique single-use coupon code, available to later sends as ``coupon_code``."""

    type: Literal["coupon"]
    percent: float | None = Field(default=None, gt=0, le=100)
    amount: float | None = Field(default=None, gt=0, description="baht off")
    prefix: str = Field(default="", max_length=12, pattern=r"^[A-Z0-9]*$")
    valid_days: int = Field(default=30, ge=1, le=3650)
    next: NodeId | None = None


class TaskNode(_Node):
    """Create a task for a team, e.g. the call centre."""

    type: Literal["task"]
    team: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=300)
    due_in: str | None = None
    next: NodeId | None = None

    _check_due = field_validator("due_in")(lambda v: v if v is None else _duration(v))


class EmitNode(_Node):
    """Record a tracking event on the person, for segments, other journeys and reports."""

    type: Literal["emit"]
    event: EventName
    properties: dict[str, Any] = Field(default_factory=dict)
    next: NodeId | None = None


class ExitNode(_Node):
    """End the run here."""

    type: Literal["exit"]


Node = Annotated[
    WaitNode
    | WaitUntilNode
    | WaitForEventNode
    | BranchNode
    | SplitNode
    | HoldoutNode
    | SendNode
    | UpdateProfileNode
    | CouponNode
    | TaskNode
    | EmitNode
    | ExitNode,
    Field(discriminator="type"),
]


class Definition(_Strict):
    """A whole journey graph."""

    entry: EntryRule
    reentry: Reentry = Reentry()
    max_entries: int | None = Field(default=None, ge=1, description="runs started, ever")
    goal: Goal | None = None
    exit: ExitRules = ExitRules()
    migrate_runs: bool = Field(
        default=False,
        description="on publishing a new version, move runs in flight to it (by node id)",
    )
    start: NodeId
    nodes: list[Node] = Field(min_length=1, max_length=MAX_NODES)

    def node(self, node_id: str) -> Any:
        """Return the node with this id (the graph was checked, so it exists)."""
        return self.by_id[node_id]

    @property
    def by_id(self) -> dict[str, Any]:
        """Return every node by its id."""
        return {node.id: node for node in self.nodes}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a definition, at a JSON path such as ``nodes[2].next``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionError(ValueError):
    """A definition that cannot run, with every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


_ADAPTER = TypeAdapter(Definition)


def parse_definition(data: Mapping[str, Any]) -> Definition:
    """Return the checked definition, or raise DefinitionError naming every problem."""
    try:
        definition = _ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise DefinitionError([_problem(error) for error in exc.errors()]) from None
    problems = list(_graph_problems(definition))
    if problems:
        raise DefinitionError(problems)
    return definition


def successors(node: Any) -> list[tuple[str, str | None]]:
    """Return (outcome, next node id) for every way out of a node."""
    if isinstance(node, WaitForEventNode):
        return [("event", node.on_event), ("timeout", node.on_timeout)]
    if isinstance(node, BranchNode):
        return [("yes", node.yes), ("no", node.no)]
    if isinstance(node, SplitNode):
        return [(path.name, path.next) for path in node.paths]
    if isinstance(node, ExitNode):
        return []
    return [("next", node.next)]


def _graph_problems(definition: Definition) -> Iterator[Problem]:
    index: dict[str, int] = {}
    for i, node in enumerate(definition.nodes):
        if node.id in RESERVED_IDS:
            yield Problem(
                f"nodes[{i}].id", f"{node.id!r} is reserved for the run's own steps: rename it"
            )
        if node.id in index:
            yield Problem(f"nodes[{i}].id", f"{node.id!r} is used by nodes[{index[node.id]}] too")
        else:
            index[node.id] = i
    if definition.start not in index:
        yield Problem("start", f"no node has the id {definition.start!r}")
    for i, node in enumerate(definition.nodes):
        for outcome, target in successors(node):
            if target is not None and target not in index:
                field = _edge_field(node, outcome)
                yield Problem(f"nodes[{i}].{field}", f"no node has the id {target!r}")
        if isinstance(node, SplitNode):
            names = [path.name for path in node.paths]
            if len(set(names)) != len(names):
                yield Problem(f"nodes[{i}].paths", "path names must differ")
            if sum(path.weight for path in node.paths) == 0:
                yield Problem(f"nodes[{i}].paths", "at least one weight must be above 0")
        if isinstance(node, CouponNode) and (node.percent is None) == (node.amount is None):
            yield Problem(f"nodes[{i}]", "a coupon takes either percent or amount")
    entry = definition.entry
    if isinstance(entry, DateEntry):
        if (entry.trait is None) == (entry.computed is None):
            yield Problem("entry", "a date entry takes either trait or computed")
        if entry.computed is not None and entry.days_after is None:
            yield Problem("entry.days_after", "is required with computed")
        if entry.trait is not None and entry.days_after is not None:
            yield Problem("entry.days_after", "is only for computed; a trait takes days_before")
    if isinstance(entry, ScheduleEntry):
        if entry.weekday is not None and entry.every != "week":
            yield Problem("entry.weekday", "is only for every: week")
        if entry.day is not None and entry.every != "month":
            yield Problem("entry.day", "is only for every: month")
    reentry = definition.reentry
    if (reentry.policy == "after") != (reentry.days is not None):
        yield Problem("reentry.days", "is required with policy 'after' and only with it")
    if definition.start not in index:
        return
    yield from _cycle_and_reach(definition, index)


def _cycle_and_reach(definition: Definition, index: dict[str, int]) -> Iterator[Problem]:
    nodes = definition.by_id
    state: dict[str, str] = {}
    problems: list[Problem] = []

    def visit(node_id: str) -> None:
        state[node_id] = "open"
        for _, target in successors(nodes[node_id]):
            if target is None or target not in nodes:
                continue
            if state.get(target) == "open":
                problems.append(
                    Problem(
                        f"nodes[{index[node_id]}]",
                        f"leads back to {target!r}: a journey cannot loop",
                    )
                )
            elif target not in state:
                visit(target)
        state[node_id] = "done"

    visit(definition.start)
    yield from problems
    for node_id, i in index.items():
        if node_id not in state:
            yield Problem(f"nodes[{i}]", f"{node_id!r} cannot be reached from the start")


def _edge_field(node: Any, outcome: str) -> str:
    if isinstance(node, WaitForEventNode):
        return "on_event" if outcome == "event" else "on_timeout"
    if isinstance(node, BranchNode):
        return outcome
    if isinstance(node, SplitNode):
        position = next(i for i, p in enumerate(node.paths) if p.name == outcome)
        return f"paths[{position}].next"
    return "next"


def _problem(error: Mapping[str, Any]) -> Problem:
    """Turn a pydantic error into a path that names list positions and node types."""
    parts: list[str] = []
    previous: Any = None
    for part in error["loc"]:
        tag_of_node = isinstance(previous, int) and part in _NODE_TAGS and len(parts) == 1
        tag_of_entry = previous == "entry" and part in _ENTRY_TAGS and parts == ["entry"]
        previous = part
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        elif tag_of_node or tag_of_entry:
            # The discriminator tag pydantic puts in the path is not a JSON field.
            continue
        else:
            parts.append(str(part))
    message = str(error["msg"])
    if error["type"] == "union_tag_invalid":
        message = f"type must be one of {', '.join(sorted(_NODE_TAGS))}"
        if parts == ["entry"]:
            message = f"type must be one of {', '.join(_ENTRY_TAGS)}"
    elif error["type"] == "union_tag_not_found":
        message = "type is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    message = message.removeprefix("Value error, ")
    return Problem(".".join(parts), message)


_ENTRY_TAGS = ("event", "segment", "date", "schedule")
# Every node type, from the node classes' ``type`` literals.
NODE_TYPES = tuple(
    get_args(kind.model_fields["type"].annotation)[0] for kind in get_args(get_args(Node)[0])
)
_NODE_TAGS = frozenset(NODE_TYPES)
