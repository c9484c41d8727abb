"""Running a journey for one real or synthetic person on a fast-forward clock, dry.

The simulation walks the graph with the engine's own node logic, but nothing is written:
the run lives in memory, later events come from the request, and messages are rendered
(for a real person) instead of queued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sampan.core.errors import InvalidInput
from sampan.journeys.definition import (
    BranchNode,
    Definition,
    DefinitionError,
    EventEntry,
    parse_definition,
    parse_duration,
)
from sampan.journeys.engine import Effects, Walker, definition_of
from sampan.journeys.models import Run
from sampan.journeys.schemas import (
    JourneyEnv,
    SimulatedEvent,
    SimulatedMessage,
    SimulatedStep,
    SimulationInput,
    SimulationOut,
)
from sampan.journeys.triggers import apply_event
from sampan.messaging import service as messaging
from sampan.messaging.schemas import PreviewInput
from sampan.profiles import service as profiles
from sampan.profiles.schemas import ProfileFacts

# A journey without loops ends within this many rounds, waits included.
_MAX_ROUNDS = 1000


@dataclass(frozen=True)
class _Later:
    """An event the simulated person does after entering."""

    at: datetime
    seq: int
    name: str
    properties: dict[str, Any]


class _DryWalker(Walker):
    """The engine's walker, with the person's later events and branch choices given."""

    def __init__(
        self,
        *args: Any,
        later: list[_Later],
        branches: Mapping[str, str],
        real: bool,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.later = later
        self.branches = branches
        self.real = real

    def condition_holds(self, node: BranchNode) -> bool:
        """Take a forced choice, else evaluate for a real person; synthetic ones take no."""
        forced = self.branches.get(node.id)
        if forced is not None:
            return forced == "yes"
        return self.real and super().condition_holds(node)

    def events_since(self, name: str, after_seq: int) -> list[tuple[int, dict[str, Any]]]:
        """Return the request's later events that happened by now."""
        return [
            (e.seq, e.properties)
            for e in self.later
            if e.name == name and e.seq > after_seq and e.at <= self.now
        ]


def simulate(
    session: Session, *, journey_id: str, data: SimulationInput, env: JourneyEnv, draft: Any
) -> SimulationOut:
    """Walk the draft (or a version) for one person and report the path and the messages."""
    definition = _definition(session, journey_id, data.version, draft)
    start = env.clock()
    facts = _facts(session, data, env)
    later = sorted(
        (
            _Later(start + timedelta(seconds=parse_duration(e.after)), i + 1, e.event, e.properties)
            for i, e in enumerate(data.events)
        ),
        key=lambda e: (e.at, e.seq),
    )
    run = Run(
        id="simulation",
        journey_id=journey_id,
        version=data.version or 0,
        profile_id=data.profile_id or "simulated-person",
        status="active",
        node_id=definition.start,
        waiting=False,
        due_at=start,
        entry_seq=0,
        wait_after_seq=0,
        trigger={"event": _trigger(definition, data)},
        variables={},
        entered_at=start,
        steps=0,
    )
    effects = Effects()
    horizon = start + timedelta(seconds=parse_duration(data.horizon))
    now = start
    for _ in range(_MAX_ROUNDS):
        _DryWalker(
            session,
            env,
            run,
            definition,
            effects,
            facts,
            now,
            later=later,
            branches=data.branches,
            real=data.profile_id is not None,
        ).walk()
        if run.status != "active":
            break
        moment = _next_moment(run, later, now, definition)
        if moment is None or moment > horizon:
            break
        for event in later:
            if now < event.at <= moment:
                effects.steps += apply_event(
                    run, definition, event.name, event.properties, event.at, event.at
                )
        if run.status != "active":
            break
        now = moment
    return _report(session, env, run, effects, start, data)


def _next_moment(
    run: Run, later: list[_Later], now: datetime, definition: Definition
) -> datetime | None:
    """Return when something next happens to the run: its timer, or an event it cares about."""
    watched = {run.waiting_for} if run.waiting_for else set()
    if definition.goal is not None:
        watched.add(definition.goal.event)
    watched.update(definition.exit.events)
    moments = [e.at for e in later if e.at > now and e.name in watched]
    if run.due_at is not None:
        moments.append(max(run.due_at, now))
    return min(moments) if moments else None


def _definition(session: Session, journey_id: str, version: int | None, draft: Any) -> Definition:
    if version is None:
        try:
            return parse_definition(draft)
        except DefinitionError as exc:
            raise InvalidInput(f"the draft is not valid: {exc}") from None
    try:
        return definition_of(session, journey_id, version)
    except LookupError:
        raise InvalidInput(f"journey {journey_id} has no version {version}") from None


def _facts(session: Session, data: SimulationInput, env: JourneyEnv) -> ProfileFacts | None:
    if data.profile_id is None:
        return None
    found = profiles.facts_of(session, profile_ids=[data.profile_id], currency=env.currency)
    if not found:
        raise InvalidInput(f"profile '{data.profile_id}' does not exist")
    return found[0]


def _trigger(definition: Definition, data: SimulationInput) -> dict[str, Any] | None:
    if data.trigger is not None:
        return {"name": data.trigger.event, "properties": data.trigger.properties}
    if isinstance(definition.entry, EventEntry):
        return {"name": definition.entry.event, "properties": {}}
    return None


def _report(
    session: Session,
    env: JourneyEnv,
    run: Run,
    effects: Effects,
    start: datetime,
    data: SimulationInput,
) -> SimulationOut:
    status = run.status if run.status != "active" else "waiting"
    messages = []
    kinds = {c.name: c.kind for c in messaging.list_channels(session, rules=env.messaging)}
    for item, step in zip(effects.sends, _send_steps(effects), strict=True):
        preview: dict[str, Any] = {}
        if data.profile_id is not None:
            for channel in item.channels:
                kind = kinds.get(channel)
                if kind is None or kind in preview:
                    continue
                try:
                    preview[kind] = messaging.preview(
                        session,
                        template=item.template_id,
                        data=PreviewInput(
                            profile_id=data.profile_id,
                            kind=kind,
                            event=item.event,
                            coupon_code=item.coupon_code,
                        ),
                        currency=env.currency,
                        rules=env.messaging,
                    ).content
                except InvalidInput as exc:
                    preview[kind] = {"error": exc.message}
        messages.append(
            SimulatedMessage(
                node_id=step["node_id"],
                at=step["at"],
                offset=_offset(step["at"] - start),
                template=item.template_id,
                channels=list(item.channels),
                category=item.category,
                coupon_code=item.coupon_code,
                preview=preview,
            )
        )
    return SimulationOut(
        status=status,
        reason=run.reason,
        converted_at=run.goal_at,
        path=[
            SimulatedStep(
                node_id=s["node_id"],
                outcome=s["outcome"],
                detail=s["detail"],
                at=s["at"],
                offset=_offset(s["at"] - start),
            )
            for s in sorted(effects.steps, key=lambda s: s["at"])
        ],
        messages=messages,
        events=[
            SimulatedEvent(type=e["type"], event=e.get("event"), traits=e.get("traits"))
            for e in effects.events
        ],
        coupons=[c["code"] for c in effects.coupons],
        tasks=[t["title"] for t in effects.tasks],
    )


def _send_steps(effects: Effects) -> list[dict[str, Any]]:
    return [s for s in effects.steps if s["outcome"] == "queued"]


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    return f"+{days}d {hours}h {minutes}m" if days else f"+{hours}h {minutes}m"
