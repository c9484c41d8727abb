"""What starts, wakes and ends runs: events as the pipeline folds them, and segment changes.

Reactions to events run inside the pipeline's transaction, so an event starts a run, wakes a
wait or counts a conversion exactly once: if the batch fails, none of it happened. They only
write runs; executing steps is the worker's job (``engine.advance_due``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from sampan.collect.schemas import CollectedEvent
from sampan.core.batching import chunks
from sampan.core.errors import NotFound
from sampan.core.ids import new_id
from sampan.db.outbox import take
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.journeys.definition import (
    WEEKDAYS,
    DateEntry,
    Definition,
    EventEntry,
    ScheduleEntry,
    SegmentEntry,
)
from sampan.journeys.engine import as_number, definition_of, matches
from sampan.journeys.models import Journey, JourneyVersion, Run, Step
from sampan.journeys.schemas import JourneyEnv
from sampan.profiles import service as profiles
from sampan.profiles.schemas import PipelineBatch
from sampan.segments import service as segments

CONSUMER = "journeys"
# An event older than this starts no run: importing history must not message people now.
ENTRY_MAX_AGE = timedelta(days=1)
log = structlog.get_logger("sampan.journeys")


@dataclass(frozen=True)
class Entry:
    """A person about to start a journey."""

    journey_id: str
    version: int
    definition: Definition
    profile_id: str
    entry_key: str | None
    entry_seq: int
    trigger: dict[str, Any]


def react_to_batch(session: Session, batch: PipelineBatch, env: JourneyEnv) -> None:
    """Start, wake, convert and end runs for the events of one pipeline batch."""
    now = env.clock()
    for survivor, merged in batch.merges:
        _merge(session, survivor, merged, now)
    tracked = [
        (event, batch.attribution[event.seq])
        for event in batch.events
        if event.type == "track" and event.name and event.seq in batch.attribution
    ]
    if not tracked:
        return
    journeys = _journeys(session)
    if not journeys:
        return
    _wake_waiting(session, tracked, now)
    oldest = now - ENTRY_MAX_AGE
    entries = [
        entry
        for event, profile_id in tracked
        if event.timestamp >= oldest
        for journey_id, (status, version, definition) in journeys.items()
        if status == "live"
        and (entry := _event_entry(journey_id, version, definition, event, profile_id))
    ]
    enter(session, entries, now)
    # After the entries: a purchase later in the same batch converts a run it just started.
    _goals_and_exits(session, tracked, journeys, now)


def react_to_segments(session: Session, env: JourneyEnv) -> int:
    """Start runs on segment entry and end runs on segment exit; return the changes taken."""
    changes = take(session, consumer=CONSUMER, topics=(segments.ENTERED, segments.EXITED))
    if not changes:
        return 0
    now = env.clock()
    journeys = _journeys(session)
    seq = profiles.pipeline_status(session).processed_seq
    entries = []
    for change in changes:
        segment_id = str(change.payload["segment_id"])
        profile_id = str(change.payload["profile_id"])
        for journey_id, (status, version, definition) in journeys.items():
            if change.topic == segments.ENTERED:
                entry = definition.entry
                if (
                    status == "live"
                    and isinstance(entry, SegmentEntry)
                    and entry.segment == segment_id
                ):
                    trigger = {"segment": {"id": segment_id, "entered_at": now.isoformat()}}
                    entries.append(
                        Entry(journey_id, version, definition, profile_id, None, seq, trigger)
                    )
            elif definition.exit.segment_left == segment_id:
                _end_runs(
                    session,
                    journey_id,
                    [profile_id],
                    now,
                    f"left segment {segment_id}",
                )
    enter(session, entries, now)
    return len(changes)


def react_to_clock(session: Session, env: JourneyEnv) -> int:
    """Start the runs of date and schedule entries whose tick has come; return how many.

    A journey's first tick is the first one after it was published. Ticks missed while no
    worker ran are caught up once, not once each.
    """
    now = env.clock()
    zone = _zone(env.timezone)
    started = 0
    query = select(Journey).where(Journey.status == "live", Journey.version > 0)
    if session.get_bind().dialect.name == "postgresql":
        # One worker ticks a journey; the others skip it rather than enter people twice.
        query = query.with_for_update(skip_locked=True)
    for row in session.scalars(query):
        definition = definition_of(session, row.id, row.version)
        entry = definition.entry
        if not isinstance(entry, DateEntry | ScheduleEntry):
            continue
        tick = last_tick(entry, now, zone)
        if row.ticked_at is None or tick <= row.ticked_at:
            continue
        row.ticked_at = tick
        seq = profiles.pipeline_status(session).processed_seq
        if isinstance(entry, DateEntry):
            entries = _anniversaries(
                session, env, row.id, row.version, definition, entry, tick, seq
            )
        else:
            try:
                members = segments.member_ids(session, segment_id=entry.segment)
            except NotFound:
                log.warning("scheduled segment is gone; tick skipped", journey=row.id)
                continue
            trigger = {"schedule": {"segment": entry.segment, "tick": tick.isoformat()}}
            entries = [
                Entry(row.id, row.version, definition, profile_id, None, seq, trigger)
                for profile_id in members
            ]
        started += enter(session, entries, now)
    return started


def last_tick(entry: DateEntry | ScheduleEntry, now: datetime, zone: ZoneInfo) -> datetime:
    """Return the latest scheduled moment at or before ``now``."""
    at = clock_time.fromisoformat(entry.at)
    day = now.astimezone(zone).date()
    for _ in range(62):
        # Compared as instants, as next_local_time does across clock changes.
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate <= now and _on_schedule(entry, day):
            return candidate
        day -= timedelta(days=1)
    raise AssertionError("every schedule ticks at least once in 62 days")


def _on_schedule(entry: DateEntry | ScheduleEntry, day: date) -> bool:
    if isinstance(entry, DateEntry) or entry.every == "day":
        return True
    if entry.every == "week":
        return day.weekday() == WEEKDAYS.index(entry.weekday or "mon")
    return day.day == (entry.day or 1)


def _anniversaries(
    session: Session,
    env: JourneyEnv,
    journey_id: str,
    version: int,
    definition: Definition,
    entry: DateEntry,
    tick: datetime,
    seq: int,
) -> list[Entry]:
    """Return an entry for each person whose date comes round at this tick."""
    if entry.computed is not None:
        return _days_after(session, env, journey_id, version, definition, entry, seq)
    condition = {"trait": entry.trait, "op": "anniversary_within_days", "days": entry.days_before}
    people = segments.select_people(session, condition=condition, context=env.segment_context())
    today = tick.astimezone(_zone(env.timezone)).date()
    found = []
    for facts in profiles.facts_of(session, profile_ids=people, currency=env.currency):
        anniversary = next_anniversary(facts.traits.get(entry.trait or ""), today)
        if anniversary is None or (anniversary - today).days > entry.days_before:
            continue
        trigger = {"date": {"trait": entry.trait, "anniversary": anniversary.isoformat()}}
        # Once a year: the year of the anniversary is the entry key.
        key = str(anniversary.year)
        found.append(Entry(journey_id, version, definition, facts.profile_id, key, seq, trigger))
    return found


def _days_after(
    session: Session,
    env: JourneyEnv,
    journey_id: str,
    version: int,
    definition: Definition,
    entry: DateEntry,
    seq: int,
) -> list[Entry]:
    """Return an entry for each person whose computed time is N to N+1 days ago.

    Ticks are a day apart, so each time is caught by one tick; the entry key is the time
    itself, so a later order starts the count again.
    """
    days = entry.days_after or 0
    name = str(entry.computed)
    condition = {
        "all": [
            {"computed": name, "op": "not_within_last_days", "days": days},
            {"computed": name, "op": "within_last_days", "days": days + 1},
        ]
    }
    people = segments.select_people(session, condition=condition, context=env.segment_context())
    found = []
    for facts in profiles.facts_of(session, profile_ids=people, currency=env.currency):
        ms = getattr(facts, name.removesuffix("_at") + "_ms")
        if ms is None:
            continue
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()
        trigger = {"date": {"computed": name, "at": moment, "days_after": days}}
        key = f"{name}:{moment}"[:200]
        found.append(Entry(journey_id, version, definition, facts.profile_id, key, seq, trigger))
    return found


def next_anniversary(value: Any, today: date) -> date | None:
    """Return the first anniversary of a date trait on or after today (29 Feb: 1 March)."""
    if not isinstance(value, str):
        return None
    try:
        born = date.fromisoformat(value[:10])
    except ValueError:
        return None
    for year in (today.year, today.year + 1):
        try:
            candidate = born.replace(year=year)
        except ValueError:
            candidate = date(year, 3, 1)
        if candidate >= today:
            return candidate
    return None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Bangkok")


def enter(session: Session, entries: Sequence[Entry], now: datetime) -> int:
    """Start runs for these entries where the re-entry rules and limits allow; return how many."""
    if not entries:
        return 0
    journey_ids = sorted({e.journey_id for e in entries})
    people = sorted({e.profile_id for e in entries})
    history: dict[tuple[str, str], list[tuple[str, datetime, str | None]]] = {}
    for chunk in chunks(people):
        for journey_id, profile_id, status, entered_at, key in session.execute(
            select(Run.journey_id, Run.profile_id, Run.status, Run.entered_at, Run.entry_key).where(
                Run.journey_id.in_(journey_ids), Run.profile_id.in_(chunk)
            )
        ):
            history.setdefault((journey_id, profile_id), []).append((status, entered_at, key))
    started: dict[str, int] = {}
    limited = {e.journey_id: e.definition.max_entries for e in entries if e.definition.max_entries}
    for journey_id in limited:
        started[journey_id] = (
            session.scalar(
                select(func.count()).select_from(Run).where(Run.journey_id == journey_id)
            )
            or 0
        )
    rows = []
    steps = []
    for entry in entries:
        past = history.setdefault((entry.journey_id, entry.profile_id), [])
        if not _may_enter(entry, past, now):
            continue
        limit = limited.get(entry.journey_id)
        if limit is not None and started[entry.journey_id] >= limit:
            continue
        started[entry.journey_id] = started.get(entry.journey_id, 0) + 1
        past.append(("active", now, entry.entry_key))
        run_id = new_id("run")
        rows.append(
            {
                "id": run_id,
                "journey_id": entry.journey_id,
                "version": entry.version,
                "profile_id": entry.profile_id,
                "entry_key": entry.entry_key,
                "status": "active",
                "node_id": entry.definition.start,
                "waiting": False,
                "due_at": now,
                "entry_seq": entry.entry_seq,
                "wait_after_seq": entry.entry_seq,
                "trigger": entry.trigger,
                "variables": {},
                "entered_at": now,
                "steps": 0,
            }
        )
        steps.append(
            {
                "run_id": run_id,
                "journey_id": entry.journey_id,
                "version": entry.version,
                "node_id": "entry",
                "outcome": "entered",
                "detail": None,
                "at": now,
            }
        )
    if rows:
        insert_ignoring_duplicates(session, Run, rows, ["journey_id", "profile_id", "entry_key"])
        inserted: set[str] = set()
        for chunk in chunks([str(row["id"]) for row in rows]):
            inserted.update(session.scalars(select(Run.id).where(Run.id.in_(chunk))))
        kept = [step for step in steps if step["run_id"] in inserted]
        if kept:
            session.execute(insert(Step), kept)
        return len(inserted)
    return 0


def _may_enter(
    entry: Entry, past: Sequence[tuple[str, datetime, str | None]], now: datetime
) -> bool:
    if entry.entry_key is not None:
        # One run per key value, ever; runs for other keys do not count.
        return all(key != entry.entry_key for _, _, key in past)
    if any(status == "active" for status, _, _ in past):
        return False
    reentry = entry.definition.reentry
    if not past or reentry.policy == "always":
        return True
    if reentry.policy == "never":
        return False
    latest = max(entered_at for _, entered_at, _ in past)
    return latest <= now - timedelta(days=reentry.days or 0)


def _event_entry(
    journey_id: str,
    version: int,
    definition: Definition,
    event: CollectedEvent,
    profile_id: str,
) -> Entry | None:
    entry = definition.entry
    if not isinstance(entry, EventEntry) or entry.event != event.name:
        return None
    properties = event.message.get("properties") or {}
    if not matches(entry.where, properties):
        return None
    key = None
    if entry.entry_key is not None:
        value = properties.get(entry.entry_key)
        if value is None or value == "":
            # Without the key there is nothing to tell one order from the next.
            return None
        key = str(value)[:200]
    trigger = {
        "event": {
            "name": event.name,
            "properties": properties,
            "timestamp": event.timestamp.isoformat(),
            "messageId": event.message_id,
        }
    }
    return Entry(journey_id, version, definition, profile_id, key, event.seq, trigger)


def _journeys(session: Session) -> dict[str, tuple[str, int, Definition]]:
    """Return (status, current version, definition) of every live or paused journey."""
    rows = session.execute(
        select(Journey.id, Journey.status, Journey.version).where(
            Journey.status.in_(("live", "paused")), Journey.version > 0
        )
    )
    return {
        journey_id: (status, version, definition_of(session, journey_id, version))
        for journey_id, status, version in rows
    }


def _wake_waiting(
    session: Session, tracked: Sequence[tuple[CollectedEvent, str]], now: datetime
) -> None:
    """Make runs waiting for one of these events due now; the worker checks the filters."""
    names = sorted({str(event.name) for event, _ in tracked})
    people = sorted({profile_id for _, profile_id in tracked})
    for chunk in chunks(people):
        session.execute(
            update(Run)
            .where(
                Run.status == "active",
                Run.profile_id.in_(chunk),
                Run.waiting_for.in_(names),
            )
            .values(due_at=now)
            .execution_options(synchronize_session=False)
        )


def _goals_and_exits(
    session: Session,
    tracked: Sequence[tuple[CollectedEvent, str]],
    journeys: Mapping[str, tuple[str, int, Definition]],
    now: datetime,
) -> None:
    names = {str(event.name) for event, _ in tracked}
    versions = _versions(session, journeys)
    interested = sorted(
        journey_id
        for journey_id, definitions in versions.items()
        if any(
            (d.goal is not None and d.goal.event in names) or names & set(d.exit.events)
            for d in definitions.values()
        )
    )
    if not interested:
        return
    people = sorted({profile_id for _, profile_id in tracked})
    runs: dict[str, list[Run]] = {}
    oldest = now - timedelta(days=366)
    for chunk in chunks(people):
        for run in session.scalars(
            select(Run).where(
                Run.journey_id.in_(interested),
                Run.profile_id.in_(chunk),
                Run.entered_at >= oldest,
            )
        ):
            runs.setdefault(run.profile_id, []).append(run)
    steps = []
    for event, profile_id in tracked:
        properties = event.message.get("properties") or {}
        for run in runs.get(profile_id, []):
            if event.seq > run.entry_seq:
                definition = versions[run.journey_id][run.version]
                steps += apply_event(
                    run, definition, str(event.name), properties, event.timestamp, now
                )
    if steps:
        session.execute(insert(Step), steps)


def apply_event(
    run: Run,
    definition: Definition,
    name: str,
    properties: Mapping[str, Any],
    at: datetime,
    now: datetime,
) -> list[dict[str, Any]]:
    """Count a goal or end the run for one later event of its person; return the steps.

    ``at`` is when the event happened (for the goal's window), ``now`` when it is applied.
    """
    steps = []
    goal = definition.goal
    if (
        goal is not None
        and goal.event == name
        and run.goal_at is None
        and run.status != "failed"
        and at <= run.entered_at + timedelta(days=goal.window_days)
        and matches(goal.where, properties)
    ):
        run.goal_at = at
        revenue = as_number(properties.get(goal.revenue_property))
        run.revenue = None if revenue is None else float(revenue)
        steps.append(_step(run, "goal", "converted", name, now))
        if goal.exit and run.status == "active":
            _finish(run, "exited", f"goal reached: {name}", now)
    if run.status == "active" and name in definition.exit.events:
        steps.append(_step(run, "exit", "exited", name, now))
        _finish(run, "exited", f"exit event: {name}", now)
    return steps


def _versions(
    session: Session, journeys: Mapping[str, tuple[str, int, Definition]]
) -> dict[str, dict[int, Definition]]:
    found: dict[str, dict[int, Definition]] = {journey_id: {} for journey_id in journeys}
    for journey_id, version in session.execute(
        select(JourneyVersion.journey_id, JourneyVersion.version).where(
            JourneyVersion.journey_id.in_(list(journeys))
        )
    ):
        found[journey_id][version] = definition_of(session, journey_id, version)
    return found


def _end_runs(
    session: Session, journey_id: str, profile_ids: Iterable[str], now: datetime, reason: str
) -> None:
    runs = session.scalars(
        select(Run).where(
            Run.journey_id == journey_id,
            Run.profile_id.in_(list(profile_ids)),
            Run.status == "active",
        )
    )
    steps = []
    for run in runs:
        steps.append(_step(run, "exit", "exited", reason, now))
        _finish(run, "exited", reason, now)
    if steps:
        session.execute(insert(Step), steps)


def _merge(session: Session, survivor: str, merged: str, now: datetime) -> None:
    """Give the merged-away profile's runs to the survivor; end duplicates of its own runs."""
    theirs = list(session.scalars(select(Run).where(Run.profile_id == merged)))
    if not theirs:
        return
    ours = {
        (run.journey_id, run.entry_key): run
        for run in session.scalars(select(Run).where(Run.profile_id == survivor))
    }
    for run in theirs:
        twin = ours.get((run.journey_id, run.entry_key))
        if twin is None:
            run.profile_id = survivor
            ours[(run.journey_id, run.entry_key)] = run
        elif run.status == "active":
            _finish(run, "exited", f"merged into {survivor}, who has a run already", now)


def _finish(run: Run, status: str, reason: str, now: datetime) -> None:
    run.status = status
    run.reason = reason
    run.finished_at = now
    run.due_at = None
    run.waiting = False
    run.waiting_for = None


def _step(
    run: Run, node_id: str, outcome: str, detail: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "journey_id": run.journey_id,
        "version": run.version,
        "node_id": node_id,
        "outcome": outcome,
        "detail": detail,
        "at": now,
    }
