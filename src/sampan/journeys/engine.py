"""Moving runs through their graphs: every step and its effects commit in one transaction.

A worker claims runs whose ``due_at`` has passed (SKIP LOCKED on PostgreSQL, so several
workers share the load), executes node after node until each run waits or ends, and writes
the steps, the new positions and the effects (messages to the outbox, events to the log,
coupons, tasks) together. A crash before the commit loses nothing and repeats nothing: the
runs are still due and their effects were never written. Messages carry the key
``journey:<journey>:<node>:<run>``, so even a step repeated by a migration or a replay is
sent at most once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.core.ids import new_id
from sampan.identity import service as identity
from sampan.journeys.definition import (
    WEEKDAYS,
    BranchNode,
    CouponNode,
    Definition,
    EmitNode,
    ExitNode,
    HoldoutNode,
    PropertyFilter,
    SendNode,
    SplitNode,
    TaskNode,
    UpdateProfileNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilNode,
    parse_definition,
    parse_duration,
)
from sampan.journeys.models import Coupon, Journey, JourneyVersion, Run, Step, Task
from sampan.journeys.schemas import JourneyEnv
from sampan.messaging import service as messaging
from sampan.messaging.schemas import TemplateOut
from sampan.profiles import service as profiles
from sampan.profiles.schemas import ProfileFacts
from sampan.segments import service as segments

# A run takes at most this many steps in one go; a longer chain waits for the next round.
MAX_STEPS_PER_ROUND = 50
SOURCE_NAME = "journeys"
_COUPON_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# Published versions never change, so each is parsed once per process.
_definitions: dict[tuple[str, int], Definition] = {}


def definition_of(session: Session, journey_id: str, version: int) -> Definition:
    """Return a published version's definition."""
    key = (journey_id, version)
    found = _definitions.get(key)
    if found is None:
        row = session.get(JourneyVersion, key)
        if row is None:
            raise LookupError(f"journey {journey_id} has no version {version}")
        found = parse_definition(row.definition)
        if len(_definitions) >= 1024:
            _definitions.clear()
        _definitions[key] = found
    return found


@dataclass
class Effects:
    """What a round of steps writes besides the runs themselves."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    sends: list[messaging.Outgoing] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    coupons: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    templates: dict[str, TemplateOut] = field(default_factory=dict)


def advance_due(session: Session, env: JourneyEnv, *, limit: int = 500) -> int:
    """Advance up to ``limit`` due runs of live journeys; return how many were advanced."""
    now = env.clock()
    live = list(session.scalars(select(Journey.id).where(Journey.status == "live")))
    if not live:
        return 0
    query = (
        select(Run)
        .where(Run.status == "active", Run.due_at <= now, Run.journey_id.in_(live))
        .order_by(Run.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    runs = list(session.scalars(query))
    if not runs:
        return 0
    effects = Effects()
    facts = {
        f.profile_id: f
        for f in profiles.facts_of(
            session, profile_ids=sorted({r.profile_id for r in runs}), currency=env.currency
        )
    }
    for run in runs:
        definition = definition_of(session, run.journey_id, run.version)
        Walker(session, env, run, definition, effects, facts.get(run.profile_id), now).walk()
    _write(session, env, effects, now)
    return len(runs)


class Walker:
    """Takes one run from node to node until it waits or ends."""

    def __init__(
        self,
        session: Session,
        env: JourneyEnv,
        run: Run,
        definition: Definition,
        effects: Effects,
        facts: ProfileFacts | None,
        now: datetime,
    ) -> None:
        self.session = session
        self.env = env
        self.run = run
        self.definition = definition
        self.effects = effects
        self.facts = facts
        self.now = now

    def walk(self) -> None:
        """Execute nodes until the run waits, ends or took its share of steps this round."""
        run = self.run
        for _ in range(MAX_STEPS_PER_ROUND):
            if run.status != "active" or run.node_id is None:
                return
            node = self.definition.node(run.node_id)
            try:
                moved = self._execute(node)
            except Exception as exc:  # noqa: BLE001 - a broken step fails its run, not the round
                self._step(node.id, "error", f"{type(exc).__name__}: {exc}")
                self._finish("failed", f"step {node.id} failed: {exc}")
                return
            if not moved:
                return
        # Still going after many steps (a long chain without waits): continue next round.
        run.due_at = self.now

    # -- nodes --------------------------------------------------------------------------------

    def _execute(self, node: Any) -> bool:
        """Run one node; return True when the run moved on, False when it waits or ended."""
        if isinstance(node, WaitNode):
            return self._wait(node, self.now + timedelta(seconds=parse_duration(node.duration)))
        if isinstance(node, WaitUntilNode):
            return self._wait(node, next_local_time(self.now, node.time, node.weekdays, self.zone))
        if isinstance(node, WaitForEventNode):
            return self._wait_for_event(node)
        if isinstance(node, BranchNode):
            outcome = "yes" if self.condition_holds(node) else "no"
            return self._go(node, outcome, node.yes if outcome == "yes" else node.no)
        if isinstance(node, SplitNode):
            path = pick_path(self.run.id, node)
            if self.run.path is None:
                self.run.path = path.name
            return self._go(node, path.name, path.next)
        if isinstance(node, HoldoutNode):
            if in_holdout(self.run.journey_id, node.id, self.run.profile_id, node.percent):
                self._step(node.id, "held_out")
                self._finish("held_out", "in the holdout group: receives nothing")
                return False
            return self._go(node, "treated", node.next)
        if isinstance(node, SendNode):
            self._send(node)
            return self._go(node, "queued", node.next)
        if isinstance(node, UpdateProfileNode):
            self._event({"type": "identify", "traits": dict(node.traits)}, node.id)
            return self._go(node, "updated", node.next)
        if isinstance(node, EmitNode):
            properties = {**node.properties, "journeyId": self.run.journey_id}
            self._event({"type": "track", "event": node.event, "properties": properties}, node.id)
            return self._go(node, "emitted", node.next)
        if isinstance(node, CouponNode):
            self._coupon(node)
            return self._go(node, "issued", node.next)
        if isinstance(node, TaskNode):
            self._task(node)
            return self._go(node, "created", node.next)
        assert isinstance(node, ExitNode)
        self._step(node.id, "exit")
        self._finish("completed", f"reached exit node {node.id}")
        return False

    def condition_holds(self, node: BranchNode) -> bool:
        """Return whether the person matches a branch's condition now."""
        matched = segments.matching(
            self.session,
            condition=node.condition,
            profile_ids=[self.run.profile_id],
            context=self.env.segment_context(),
        )
        return self.run.profile_id in matched

    def events_since(self, name: str, after_seq: int) -> list[tuple[int, dict[str, Any]]]:
        """Return (seq, properties) of the person's events of a name after a log position."""
        return [
            (seq, props)
            for seq, _, _, props in segments.events_after(
                self.session, profile_id=self.run.profile_id, names=[name], after_seq=after_seq
            )
        ]

    def _wait(self, node: Any, until: datetime) -> bool:
        run = self.run
        if not run.waiting:
            run.waiting = True
            run.due_at = until
            self._step(node.id, "waiting", f"until {until.isoformat()}")
            return False
        return self._go(node, "waited", node.next)

    def _wait_for_event(self, node: WaitForEventNode) -> bool:
        run = self.run
        if not run.waiting:
            run.waiting = True
            run.waiting_for = node.event
            run.wait_after_seq = run.wait_after_seq or run.entry_seq
            timeout = self.now + timedelta(seconds=parse_duration(node.timeout))
            run.variables = {**run.variables, "timeout_at": timeout.isoformat()}
            run.due_at = timeout
            self._step(node.id, "waiting", f"for {node.event} until {timeout.isoformat()}")
        seen = [
            (seq, props)
            for seq, props in self.events_since(node.event, run.wait_after_seq or 0)
            if matches(node.where, props)
        ]
        if seen:
            run.wait_after_seq = seen[0][0]
            return self._go(node, "event", node.on_event)
        timeout_at = datetime.fromisoformat(str(run.variables["timeout_at"]))
        if self.now >= timeout_at:
            return self._go(node, "timeout", node.on_timeout)
        # Woken by an event that did not match the filters: keep waiting.
        run.due_at = timeout_at
        return False

    def _send(self, node: SendNode) -> None:
        run = self.run
        template = self.effects.templates.get(node.template)
        if template is None:
            # A template renamed or deleted since publishing fails this run, not the round.
            template = messaging.get_template(self.session, template=node.template)
            self.effects.templates[node.template] = template
        self.effects.sends.append(
            messaging.Outgoing(
                profile_id=run.profile_id,
                template_id=template.id,
                channels=tuple(node.channels),
                idempotency_key=message_key(run.journey_id, node.id, run.id),
                category=node.category or template.category,
                origin="journey",
                event=template_event(run.trigger),
                coupon_code=run.variables.get("coupon_code"),
                variables={
                    "journey": {
                        "id": run.journey_id,
                        "run": run.id,
                        "coupon": run.variables.get("coupon") or {},
                    }
                },
            )
        )

    def _event(self, payload: dict[str, Any], node_id: str) -> None:
        self.effects.events.append(
            {
                **payload,
                "profile_id": self.run.profile_id,
                "messageId": f"journey:{self.run.id}:{node_id}",
            }
        )

    def _coupon(self, node: CouponNode) -> None:
        code = node.prefix + "".join(secrets.choice(_COUPON_ALPHABET) for _ in range(10))
        expires = self.now + timedelta(days=node.valid_days)
        # Later sends show it: {{ coupon_code }}, {{ journey.coupon.percent }}, its expiry.
        offer = {
            "code": code,
            "percent": node.percent,
            "amount": node.amount,
            "expires_at": expires.isoformat(),
        }
        self.run.variables = {**self.run.variables, "coupon_code": code, "coupon": offer}
        self.effects.coupons.append(
            {
                "code": code,
                "journey_id": self.run.journey_id,
                "run_id": self.run.id,
                "node_id": node.id,
                "profile_id": self.run.profile_id,
                "percent": node.percent,
                "amount": node.amount,
                "issued_at": self.now,
                "expires_at": expires,
            }
        )

    def _task(self, node: TaskNode) -> None:
        due = None
        if node.due_in is not None:
            due = self.now + timedelta(seconds=parse_duration(node.due_in))
        self.effects.tasks.append(
            {
                "id": new_id("tsk"),
                "journey_id": self.run.journey_id,
                "run_id": self.run.id,
                "node_id": node.id,
                "profile_id": self.run.profile_id,
                "team": node.team,
                "title": node.title,
                "status": "open",
                "due_at": due,
                "created_at": self.now,
            }
        )

    # -- moving -------------------------------------------------------------------------------

    def _go(self, node: Any, outcome: str, target: str | None) -> bool:
        run = self.run
        self._step(node.id, outcome)
        run.waiting = False
        run.waiting_for = None
        if target is None:
            self._finish("completed", f"finished after {node.id}")
            return False
        run.node_id = target
        run.due_at = self.now
        return True

    def _finish(self, status: str, reason: str) -> None:
        run = self.run
        run.status = status
        run.reason = reason
        run.finished_at = self.now
        run.due_at = None
        run.waiting = False
        run.waiting_for = None

    def _step(self, node_id: str, outcome: str, detail: str | None = None) -> None:
        self.run.steps += 1
        self.effects.steps.append(
            {
                "run_id": self.run.id,
                "journey_id": self.run.journey_id,
                "version": self.run.version,
                "node_id": node_id,
                "outcome": outcome,
                "detail": detail,
                "at": self.now,
            }
        )

    @property
    def zone(self) -> ZoneInfo:
        """Return the person's time zone (``timezone`` trait), else the workspace's."""
        name = self.facts.traits.get("timezone") if self.facts else None
        for candidate in (name, self.env.timezone):
            if isinstance(candidate, str):
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("Asia/Bangkok")


def _write(session: Session, env: JourneyEnv, effects: Effects, now: datetime) -> None:
    if effects.steps:
        session.execute(insert(Step), effects.steps)
    if effects.coupons:
        session.execute(insert(Coupon), effects.coupons)
    if effects.tasks:
        session.execute(insert(Task), effects.tasks)
    if effects.sends:
        messaging.enqueue(
            session,
            items=effects.sends,
            rules=env.messaging,
            catalog=env.catalog,
            currency=env.currency,
        )
    if effects.events:
        track(session, effects.events, now)
    session.flush()


def track(session: Session, events: Sequence[dict[str, Any]], now: datetime) -> None:
    """Write events on behalf of journeys, naming each person by an identifier they hold."""
    subjects = identity.subjects_of(
        session, profile_ids=sorted({event["profile_id"] for event in events})
    )
    payloads = [
        {**{k: v for k, v in event.items() if k != "profile_id"}, **subjects[event["profile_id"]]}
        for event in events
    ]
    collect.track_for_domain(session, source_name=SOURCE_NAME, payloads=payloads, now=now)


# -- pure rules -----------------------------------------------------------------------------


def template_event(trigger: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the entry event as templates see it: its properties, with its name and time.

    The same shape as messaging's ``event`` variable (``event.order_id``), so a template
    works the same whether the API or a journey sends it.
    """
    event = trigger.get("event")
    if not isinstance(event, Mapping):
        return None
    return {
        **dict(event.get("properties") or {}),
        "event_name": event.get("name"),
        "event_time": event.get("timestamp"),
    }


def message_key(journey_id: str, node_id: str, run_id: str) -> str:
    """Return the outbox idempotency key of a journey's send."""
    return f"journey:{journey_id}:{node_id}:{run_id}"


def _fraction(*parts: str) -> float:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_holdout(journey_id: str, node_id: str, profile_id: str, percent: float) -> bool:
    """Return whether a person is in a holdout node's control share: stable across runs."""
    return _fraction("holdout", journey_id, node_id, profile_id) < percent / 100


def pick_path(run_id: str, node: SplitNode) -> Any:
    """Return the split path of a run: random in proportion to the weights, and repeatable."""
    total = sum(path.weight for path in node.paths)
    point = _fraction("split", run_id, node.id) * total
    for path in node.paths:
        if point < path.weight:
            return path
        point -= path.weight
    return next(path for path in reversed(node.paths) if path.weight > 0)


def next_local_time(
    now: datetime, at: str, weekdays: Sequence[str] | None, zone: ZoneInfo
) -> datetime:
    """Return the next moment after ``now`` at a local time of day, on one of the weekdays."""
    wanted = clock_time.fromisoformat(at)
    local = now.astimezone(zone)
    allowed = {WEEKDAYS.index(day) for day in weekdays} if weekdays else set(range(7))
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        # Compared as instants: a time repeated when clocks go back is its first occurrence,
        # a time skipped when they go forward comes an hour later by the clock.
        candidate = datetime.combine(day, wanted, tzinfo=zone).astimezone(UTC)
        if candidate > now and day.weekday() in allowed:
            return candidate
    raise AssertionError("a week always holds an allowed day")


def matches(filters: Sequence[PropertyFilter], properties: Mapping[str, Any]) -> bool:
    """Return whether event properties pass every filter (a missing property fails)."""
    return all(_passes(f, properties) for f in filters)


def _passes(test: PropertyFilter, properties: Mapping[str, Any]) -> bool:
    present = test.property in properties and properties[test.property] is not None
    if test.op == "exists":
        return present if test.value is None else present == bool(test.value)
    if not present:
        return test.op == "neq" or test.op == "not_in"
    value = properties[test.property]
    if test.op == "eq":
        return bool(value == test.value)
    if test.op == "neq":
        return bool(value != test.value)
    if test.op in ("in", "not_in"):
        options = test.value if isinstance(test.value, list) else [test.value]
        return (value in options) == (test.op == "in")
    if test.op == "contains":
        if isinstance(value, str):
            return isinstance(test.value, str) and test.value in value
        return isinstance(value, list) and test.value in value
    left, right = as_number(value), as_number(test.value)
    if left is None or right is None:
        return False
    return {
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
    }[test.op]


def as_number(value: Any) -> int | float | None:
    """Return a number as it is (big integers stay exact), a numeric text as a float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
