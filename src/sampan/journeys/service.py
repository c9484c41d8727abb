"""The journeys domain's facade: drafts, publishing, runs, metrics, tasks and coupons."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sampan.core.batching import chunks
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import Conflict, InvalidInput, NotFound
from sampan.core.ids import new_id
from sampan.core.personal_data import DataSubject, Rows
from sampan.core.stats import compare_rates
from sampan.db.rows import affected_rows
from sampan.journeys import engine, installer, simulate, triggers
from sampan.journeys.definition import (
    BranchNode,
    Definition,
    DefinitionError,
    EventEntry,
    Problem,
    ScheduleEntry,
    SegmentEntry,
    SendNode,
    parse_definition,
)
from sampan.journeys.models import Coupon, Journey, JourneyVersion, Run, Step, Task
from sampan.journeys.schemas import (
    ArmOut,
    CouponOut,
    JourneyEnv,
    JourneyInput,
    JourneyMetrics,
    JourneyOut,
    NodeCounts,
    PlaybookInstall,
    PlaybookOut,
    ProblemOut,
    RunOut,
    SimulationInput,
    SimulationOut,
    StepOut,
    TaskOut,
    UpliftOut,
    ValidationOut,
)
from sampan.messaging import service as messaging
from sampan.segments import service as segments

__all__ = [
    "JourneyEnv",
    "advance_due",
    "archive_journey",
    "complete_task",
    "create_journey",
    "erase_personal_data",
    "export_personal_data",
    "get_coupon",
    "get_journey",
    "get_run",
    "install_playbook",
    "journey_metrics",
    "list_journeys",
    "list_playbooks",
    "list_runs",
    "list_tasks",
    "next_due",
    "pause_journey",
    "publish_journey",
    "react_to_batch",
    "react_to_clock",
    "react_to_segments",
    "redeem_coupon",
    "simulate_journey",
    "update_journey",
    "validate_definition",
]

advance_due = engine.advance_due
react_to_batch = triggers.react_to_batch
react_to_segments = triggers.react_to_segments
react_to_clock = triggers.react_to_clock
_WAIT_TYPES = ("wait", "wait_until", "wait_for_event")


def create_journey(
    session: Session,
    *,
    data: JourneyInput,
    playbook: str | None = None,
    clock: Clock = system_clock,
) -> JourneyOut:
    """Save a new journey as a draft; its definition must be well-formed."""
    _parse(data.definition)
    if session.scalar(select(Journey.id).where(Journey.name == data.name)) is not None:
        raise Conflict(f"a journey named {data.name!r} exists already")
    now = clock()
    row = Journey(
        id=new_id("jrn"),
        name=data.name,
        description=data.description,
        status="draft",
        draft=data.definition,
        version=0,
        playbook=playbook,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _out(row)


def update_journey(
    session: Session, *, journey_id: str, data: JourneyInput, clock: Clock = system_clock
) -> JourneyOut:
    """Replace a journey's draft; what runs changes only when the draft is published."""
    row = _journey(session, journey_id)
    if row.status == "archived":
        raise Conflict(f"journey {journey_id} is archived")
    _parse(data.definition)
    clash = session.scalar(
        select(Journey.id).where(Journey.name == data.name, Journey.id != journey_id)
    )
    if clash is not None:
        raise Conflict(f"a journey named {data.name!r} exists already")
    row.name = data.name
    row.description = data.description
    row.draft = data.definition
    row.updated_at = clock()
    session.flush()
    return _out(row)


def get_journey(session: Session, *, journey_id: str) -> JourneyOut:
    """Return one journey."""
    return _out(_journey(session, journey_id))


def list_journeys(session: Session) -> list[JourneyOut]:
    """Return every journey, newest first."""
    rows = session.scalars(select(Journey).order_by(Journey.created_at.desc()))
    return [_out(row) for row in rows]


def validate_definition(
    session: Session, *, definition: Mapping[str, Any], env: JourneyEnv
) -> ValidationOut:
    """Check a definition's shape, graph, and the templates, channels and segments it names."""
    problems = _problems(session, definition, env)
    return ValidationOut(
        valid=not problems,
        problems=[ProblemOut(path=p.path, message=p.message) for p in problems],
    )


def publish_journey(
    session: Session, *, journey_id: str, env: JourneyEnv, clock: Clock = system_clock
) -> JourneyOut:
    """Publish the draft as the next version and make the journey live.

    Runs in flight stay on their version, unless the definition says ``migrate_runs``: then
    those whose node exists in the new version move to it.
    """
    row = _journey(session, journey_id)
    if row.status == "archived":
        raise Conflict(f"journey {journey_id} is archived")
    problems = _problems(session, row.draft, env)
    if problems:
        raise InvalidInput("cannot publish: " + "; ".join(str(p) for p in problems))
    definition = parse_definition(row.draft)
    now = clock()
    row.version += 1
    session.add(
        JourneyVersion(
            journey_id=row.id, version=row.version, definition=row.draft, published_at=now
        )
    )
    if definition.migrate_runs:
        session.execute(
            update(Run)
            .where(
                Run.journey_id == row.id,
                Run.status == "active",
                Run.node_id.in_(list(definition.by_id)),
            )
            .values(version=row.version)
            .execution_options(synchronize_session=False)
        )
    if row.ticked_at is None:
        # Date and schedule entries tick from the first publish on, not retroactively.
        row.ticked_at = now
    row.status = "live"
    row.updated_at = now
    session.flush()
    return _out(row)


def pause_journey(
    session: Session, *, journey_id: str, paused: bool, clock: Clock = system_clock
) -> JourneyOut:
    """Pause (no entries, timers held) or resume a live journey."""
    row = _journey(session, journey_id)
    wanted, current = ("paused", "live") if paused else ("live", "paused")
    if row.status == wanted:
        return _out(row)
    if row.status != current:
        raise Conflict(f"journey {journey_id} is {row.status}, not {current}")
    row.status = wanted
    row.updated_at = clock()
    session.flush()
    return _out(row)


def archive_journey(
    session: Session, *, journey_id: str, clock: Clock = system_clock
) -> JourneyOut:
    """End every run in flight and archive the journey for good."""
    row = _journey(session, journey_id)
    now = clock()
    for run in session.scalars(
        select(Run).where(Run.journey_id == journey_id, Run.status == "active")
    ):
        run.status = "exited"
        run.reason = "the journey was archived"
        run.finished_at = now
        run.due_at = None
        run.waiting = False
        run.waiting_for = None
    row.status = "archived"
    row.updated_at = now
    session.flush()
    return _out(row)


def next_due(session: Session) -> datetime | None:
    """Return when the next run of a live journey comes due, if any."""
    return session.scalar(
        select(func.min(Run.due_at))
        .join(Journey, Journey.id == Run.journey_id)
        .where(Run.status == "active", Journey.status == "live")
    )


def list_runs(
    session: Session,
    *,
    journey_id: str,
    status: str | None = None,
    profile_id: str | None = None,
    limit: int = 50,
) -> list[RunOut]:
    """Return a journey's runs, newest first."""
    _journey(session, journey_id)
    query = select(Run).where(Run.journey_id == journey_id)
    if status is not None:
        query = query.where(Run.status == status)
    if profile_id is not None:
        query = query.where(Run.profile_id == profile_id)
    rows = session.scalars(query.order_by(Run.entered_at.desc(), Run.id.desc()).limit(limit))
    return [_run_out(row, []) for row in rows]


def get_run(session: Session, *, run_id: str) -> RunOut:
    """Return one run with every step it took."""
    row = session.get(Run, run_id)
    if row is None:
        raise NotFound(f"no run {run_id}")
    steps = session.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.id))
    return _run_out(
        row,
        [StepOut(node_id=s.node_id, outcome=s.outcome, detail=s.detail, at=s.at) for s in steps],
    )


def journey_metrics(session: Session, *, journey_id: str) -> JourneyMetrics:
    """Count runs by status and node, messages by status, conversions and uplift."""
    row = _journey(session, journey_id)
    by_status = dict(
        session.execute(
            select(Run.status, func.count())
            .where(Run.journey_id == journey_id)
            .group_by(Run.status)
        ).all()
    )
    waiting_at = dict(
        session.execute(
            select(Run.node_id, func.count())
            .where(Run.journey_id == journey_id, Run.status == "active", Run.waiting.is_(True))
            .group_by(Run.node_id)
        ).all()
    )
    outcomes: dict[str, dict[str, int]] = {}
    for node_id, outcome, count in session.execute(
        select(Step.node_id, Step.outcome, func.count())
        .where(Step.journey_id == journey_id)
        .group_by(Step.node_id, Step.outcome)
    ):
        outcomes.setdefault(node_id, {})[outcome] = count
    # Runs that converted, by the way they left each node: conversion per branch and path.
    converted: dict[str, dict[str, int]] = {}
    for node_id, outcome, count in session.execute(
        select(Step.node_id, Step.outcome, func.count(func.distinct(Step.run_id)))
        .join(Run, Run.id == Step.run_id)
        .where(Step.journey_id == journey_id, Run.goal_at.is_not(None))
        .group_by(Step.node_id, Step.outcome)
    ):
        if outcome != "waiting":
            converted.setdefault(node_id, {})[outcome] = count
    definition = parse_definition(row.draft) if row.version == 0 else None
    if definition is None:
        definition = engine.definition_of(session, row.id, row.version)
    nodes = []
    for node in definition.nodes:
        seen = outcomes.get(node.id, {})
        entered = seen.get("waiting", 0) if node.type in _WAIT_TYPES else sum(seen.values())
        nodes.append(
            NodeCounts(
                node_id=node.id,
                type=node.type,
                entered=entered,
                waiting=int(waiting_at.get(node.id, 0)),
                outcomes={k: v for k, v in seen.items() if k != "waiting"},
                converted=converted.get(node.id, {}),
                messages=messaging.status_counts(
                    session, key_prefix=engine.message_key(row.id, node.id, "")
                )
                if isinstance(node, SendNode)
                else {},
            )
        )
    arms = _arms(session, journey_id)
    holdout = next((arm for arm in arms if arm.arm == "holdout"), None)
    uplift = []
    if holdout is not None and holdout.runs:
        for arm in arms:
            if arm.arm != "holdout":
                found = compare_rates(arm.converted, arm.runs, holdout.converted, holdout.runs)
                uplift.append(
                    UpliftOut(
                        arm=arm.arm,
                        absolute=found.absolute,
                        relative=found.relative,
                        ci_low=found.ci_low,
                        ci_high=found.ci_high,
                        p_value=found.p_value,
                    )
                )
    return JourneyMetrics(
        journey_id=journey_id,
        entered=sum(int(v) for v in by_status.values()),
        active=int(by_status.get("active", 0)),
        waiting=sum(int(v) for v in waiting_at.values()),
        completed=int(by_status.get("completed", 0)),
        exited=int(by_status.get("exited", 0)),
        held_out=int(by_status.get("held_out", 0)),
        failed=int(by_status.get("failed", 0)),
        nodes=nodes,
        arms=arms,
        uplift=uplift,
        messages=messaging.status_counts(session, key_prefix=f"journey:{journey_id}:"),
    )


def list_playbooks() -> list[PlaybookOut]:
    """Return the playbooks shipped with Sampan."""
    return [book.out() for book in installer.playbooks().values()]


def install_playbook(
    session: Session,
    *,
    key: str,
    data: PlaybookInstall,
    env: JourneyEnv,
    clock: Clock = system_clock,
) -> JourneyOut:
    """Create a playbook's templates and segments if missing, and its journey as a draft.

    With ``publish`` the journey goes live at once.
    """
    book = installer.playbook(key)
    definition = installer.prepare(session, book=book, data=data, env=env)
    journey = create_journey(
        session,
        data=JourneyInput(
            name=data.name or book.name, description=book.description, definition=definition
        ),
        playbook=key,
        clock=clock,
    )
    if data.publish:
        journey = publish_journey(session, journey_id=journey.id, env=env, clock=clock)
    return journey


def simulate_journey(
    session: Session, *, journey_id: str, data: SimulationInput, env: JourneyEnv
) -> SimulationOut:
    """Run the draft (or a version) for one person on a fast-forward clock, writing nothing."""
    row = _journey(session, journey_id)
    return simulate.simulate(session, journey_id=row.id, data=data, env=env, draft=row.draft)


def list_tasks(session: Session, *, team: str | None = None, status: str = "open") -> list[TaskOut]:
    """Return tasks journeys created, oldest first, for one team or all."""
    query = select(Task).where(Task.status == status)
    if team is not None:
        query = query.where(Task.team == team)
    return [_task_out(row) for row in session.scalars(query.order_by(Task.created_at, Task.id))]


def complete_task(session: Session, *, task_id: str, clock: Clock = system_clock) -> TaskOut:
    """Mark a task done (again is harmless)."""
    row = session.get(Task, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    if row.status != "done":
        row.status = "done"
        row.done_at = clock()
        session.flush()
    return _task_out(row)


def redeem_coupon(
    session: Session, *, code: str, order_id: str, clock: Clock = system_clock
) -> CouponOut:
    """Use a coupon once: a second use, an unknown or an expired code is refused."""
    row = session.get(Coupon, code.strip().upper())
    if row is None:
        raise NotFound(f"no coupon {code!r}")
    now = clock()
    if row.redeemed_at is not None:
        if row.order_id == order_id:
            return _coupon_out(row)
        raise Conflict(f"coupon {row.code} was used already, for order {row.order_id}")
    if row.expires_at <= now:
        raise Conflict(f"coupon {row.code} expired at {row.expires_at.isoformat()}")
    claimed = affected_rows(
        session,
        update(Coupon)
        .where(Coupon.code == row.code, Coupon.redeemed_at.is_(None))
        .values(redeemed_at=now, order_id=order_id)
        .execution_options(synchronize_session=False),
    )
    if claimed != 1:
        raise Conflict(f"coupon {row.code} was used already")
    session.refresh(row)
    return _coupon_out(row)


def get_coupon(session: Session, *, code: str) -> CouponOut:
    """Return a coupon and whether it was used."""
    row = session.get(Coupon, code.strip().upper())
    if row is None:
        raise NotFound(f"no coupon {code!r}")
    return _coupon_out(row)


def _task_out(row: Task) -> TaskOut:
    return TaskOut.model_validate(row, from_attributes=True)


def _coupon_out(row: Coupon) -> CouponOut:
    return CouponOut.model_validate(row, from_attributes=True)


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return the person's runs with their paths, coupons and tasks."""
    ids = list(subject.profile_ids)
    runs = list(session.scalars(select(Run).where(Run.profile_id.in_(ids)).order_by(Run.id)))
    steps: dict[str, list[StepOut]] = {}
    for chunk in chunks([run.id for run in runs]):
        for step in session.scalars(select(Step).where(Step.run_id.in_(chunk)).order_by(Step.id)):
            steps.setdefault(step.run_id, []).append(
                StepOut(node_id=step.node_id, outcome=step.outcome, detail=step.detail, at=step.at)
            )
    coupons = session.scalars(select(Coupon).where(Coupon.profile_id.in_(ids)))
    tasks = session.scalars(select(Task).where(Task.profile_id.in_(ids)))
    return {
        "journey_runs": [
            _run_out(run, steps.get(run.id, [])).model_dump(mode="json") for run in runs
        ],
        "coupons": [_coupon_out(row).model_dump(mode="json") for row in coupons],
        "tasks": [_task_out(row).model_dump(mode="json") for row in tasks],
    }


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Delete the person's runs and their steps, coupons and tasks."""
    ids = list(subject.profile_ids)
    run_ids = list(session.scalars(select(Run.id).where(Run.profile_id.in_(ids))))
    steps = 0
    for chunk in chunks(run_ids):
        steps += affected_rows(session, delete(Step).where(Step.run_id.in_(chunk)))
    return {
        "journey_steps": steps,
        "journey_runs": affected_rows(session, delete(Run).where(Run.profile_id.in_(ids))),
        "coupons": affected_rows(session, delete(Coupon).where(Coupon.profile_id.in_(ids))),
        "tasks": affected_rows(session, delete(Task).where(Task.profile_id.in_(ids))),
    }


def _arms(session: Session, journey_id: str) -> list[ArmOut]:
    """Conversion per group: treated (everyone not held out), each split path, the holdout."""
    tallies: dict[str, list[float]] = {}
    for status, path, converted, revenue, count in session.execute(
        select(
            Run.status,
            Run.path,
            Run.goal_at.is_not(None),
            func.coalesce(func.sum(Run.revenue), 0.0),
            func.count(),
        )
        .where(Run.journey_id == journey_id)
        .group_by(Run.status, Run.path, Run.goal_at.is_not(None))
    ):
        groups = ["holdout"] if status == "held_out" else ["treated"]
        if path is not None and status != "held_out":
            groups.append(f"path:{path}")
        for group in groups:
            tally = tallies.setdefault(group, [0, 0, 0.0])
            tally[0] += count
            tally[1] += count if converted else 0
            tally[2] += float(revenue or 0.0) if converted else 0.0
    return [
        ArmOut(
            arm=group,
            runs=int(runs),
            converted=int(converted),
            conversion_rate=converted / runs if runs else 0.0,
            revenue=float(revenue),
        )
        for group, (runs, converted, revenue) in sorted(tallies.items())
    ]


def _problems(session: Session, data: Mapping[str, Any], env: JourneyEnv) -> list[Problem]:
    try:
        definition = parse_definition(data)
    except DefinitionError as exc:
        return exc.problems
    return list(_reference_problems(session, definition, env))


def _reference_problems(
    session: Session, definition: Definition, env: JourneyEnv
) -> Iterator[Problem]:
    templates = {t.name for t in messaging.list_templates(session)} | {
        t.id for t in messaging.list_templates(session)
    }
    channels = {c.name for c in messaging.list_channels(session, rules=env.messaging)}
    known_segments = {s.id for s in segments.list_segments(session)}
    entry = definition.entry
    if isinstance(entry, SegmentEntry | ScheduleEntry) and entry.segment not in known_segments:
        yield Problem("entry.segment", f"no segment has the id {entry.segment!r}")
    if isinstance(entry, EventEntry) and entry.entry_key == "":
        yield Problem("entry.entry_key", "must name a property")
    left = definition.exit.segment_left
    if left is not None and left not in known_segments:
        yield Problem("exit.segment_left", f"no segment has the id {left!r}")
    context = env.segment_context()
    for i, node in enumerate(definition.nodes):
        if isinstance(node, SendNode):
            if node.template not in templates:
                yield Problem(f"nodes[{i}].template", f"no template named {node.template!r}")
            for j, channel in enumerate(node.channels):
                if channel not in channels:
                    yield Problem(f"nodes[{i}].channels[{j}]", f"no channel named {channel!r}")
        if isinstance(node, BranchNode):
            try:
                segments.check_condition(session, condition=node.condition, context=context)
            except InvalidInput as exc:
                yield Problem(f"nodes[{i}].condition", exc.message)


def _parse(data: Mapping[str, Any]) -> Definition:
    try:
        return parse_definition(data)
    except DefinitionError as exc:
        raise InvalidInput(f"definition is not valid: {exc}") from None


def _journey(session: Session, journey_id: str) -> Journey:
    row = session.get(Journey, journey_id)
    if row is None:
        raise NotFound(f"no journey {journey_id}")
    return row


def _out(row: Journey) -> JourneyOut:
    return JourneyOut.model_validate(row, from_attributes=True)


def _run_out(row: Run, steps: list[StepOut]) -> RunOut:
    return RunOut(
        id=row.id,
        journey_id=row.journey_id,
        version=row.version,
        profile_id=row.profile_id,
        status=row.status,
        node_id=row.node_id,
        waiting=row.waiting,
        due_at=row.due_at,
        entry_key=row.entry_key,
        entered_at=row.entered_at,
        finished_at=row.finished_at,
        reason=row.reason,
        goal_at=row.goal_at,
        revenue=row.revenue,
        path=row.path,
        steps=steps,
    )
