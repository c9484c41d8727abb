"""Keep the read model and every segment's members current, and publish who entered or left."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.collect.schemas import CollectedEvent
from sampan.core.clock import system_clock
from sampan.db.outbox import publish_many
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.profiles import service as profiles
from sampan.profiles.schemas import PipelineBatch
from sampan.segments.compiler import CompileContext, members_query
from sampan.segments.conditions import Condition, parse_condition, segment_references
from sampan.segments.models import Alias, Member, Person, PersonEvent, Segment, SizeSample

ENTERED = "segment.entered"
EXITED = "segment.exited"
_VIEW_NAMES = {"page": "Page Viewed", "screen": "Screen Viewed"}
_CHUNK = 500
_SIZE_HISTORY = timedelta(days=730)


@dataclass(frozen=True)
class LiveSegment:
    """A segment ready to evaluate."""

    id: str
    version: int
    condition: Condition
    time_based: bool


def live_segments(session: Session) -> list[LiveSegment]:
    """Return every segment not deleted, dependencies before the segments that use them."""
    rows = session.scalars(
        select(Segment).where(Segment.deleted_at.is_(None)).order_by(Segment.created_at)
    )
    parsed = {
        row.id: LiveSegment(row.id, row.version, parse_condition(row.condition), row.time_based)
        for row in rows
    }
    ordered: list[LiveSegment] = []
    placed: set[str] = set()

    def place(segment_id: str) -> None:
        if segment_id in placed or segment_id not in parsed:
            return
        placed.add(segment_id)
        for reference in sorted(segment_references(parsed[segment_id].condition)):
            place(reference)
        ordered.append(parsed[segment_id])

    for segment_id in parsed:
        place(segment_id)
    return ordered


def record_batch(session: Session, batch: PipelineBatch, *, currency: str) -> set[str]:
    """Fold a pipeline batch into the read model; return the people whose facts changed."""
    for survivor, merged in batch.merges:
        _merge(session, survivor, merged)
    rows = [
        _event_row(event, batch.attribution[event.seq])
        for event in batch.events
        if event.seq in batch.attribution and _counts(event)
    ]
    if rows:
        session.execute(insert(PersonEvent), rows)
    touched = set(batch.touched)
    refresh_people(session, touched, currency=currency)
    return touched


def refresh_people(session: Session, profile_ids: Iterable[str], *, currency: str) -> None:
    """Rewrite the read-model rows of these people from their profiles."""
    ids = sorted(set(profile_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(Person).where(Person.profile_id.in_(chunk)))
        facts = profiles.facts_of(session, profile_ids=chunk, currency=currency)
        if facts:
            session.execute(
                insert(Person),
                [
                    {
                        "profile_id": f.profile_id,
                        "traits": f.traits,
                        "first_seen_ms": f.first_seen_ms,
                        "last_seen_ms": f.last_seen_ms,
                        "event_count": f.event_count,
                        "order_count": f.order_count,
                        "total_spent": f.total_spent,
                        "last_order_ms": f.last_order_ms,
                        "identifier_types": "|" + "|".join(f.identifier_types) + "|",
                        "bought_categories": "|" + "|".join(f.bought_categories) + "|",
                    }
                    for f in facts
                ],
            )


def rebuild_all(session: Session, *, currency: str) -> int:
    """Fill the read model from every profile and its timeline; return the people loaded."""
    session.execute(delete(PersonEvent))
    session.execute(delete(Person))
    ids = profiles.surviving_profile_ids(session)
    refresh_people(session, ids, currency=currency)
    after = 0
    while batch := profiles.attributed_after(session, after_seq=after, limit=_CHUNK):
        owners = dict(batch)
        events = collect.get_events(session, seqs=[seq for seq, _ in batch])
        rows = [_event_row(e, owners[e.seq]) for e in events if _counts(e)]
        if rows:
            session.execute(insert(PersonEvent), rows)
        after = batch[-1][0]
    return len(ids)


def _counts(event: CollectedEvent) -> bool:
    return event.type in _VIEW_NAMES or (event.type == "track" and bool(event.name))


def _event_row(event: CollectedEvent, profile_id: str) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "profile_id": profile_id,
        "name": event.name if event.type == "track" else _VIEW_NAMES[event.type],
        "ts_ms": event.timestamp_ms,
        "properties": event.message.get("properties") or {},
    }


def rebuild_events(session: Session, profile_ids: Sequence[str]) -> None:
    """Re-read the events of these people from their timelines (after an un-merge)."""
    ids = list(profile_ids)
    session.execute(delete(PersonEvent).where(PersonEvent.profile_id.in_(ids)))
    for profile_id in ids:
        seqs = profiles.event_seqs_of(session, profile_ids=[profile_id])
        for start in range(0, len(seqs), _CHUNK):
            events = collect.get_events(session, seqs=seqs[start : start + _CHUNK])
            rows = [_event_row(e, profile_id) for e in events if _counts(e)]
            if rows:
                session.execute(insert(PersonEvent), rows)


def evaluate(
    session: Session,
    segments: Sequence[LiveSegment],
    context: CompileContext,
    *,
    profile_ids: Iterable[str] | None = None,
    reason: str = "condition",
) -> dict[str, tuple[int, int]]:
    """Bring members up to date, for some people or everyone; return entered/exited counts.

    ``reason`` goes into every domain event: "definition" when a segment was created or
    edited, so a journey can tell those entries from people who just came to qualify.
    """
    ids = sorted(set(profile_ids)) if profile_ids is not None else None
    if ids is not None and not ids:
        return {}
    current = _memberships_of(session, ids) if ids is not None else None
    changes: dict[str, tuple[int, int]] = {}
    for segment in segments:
        held = current.get(segment.id, set()) if current is not None else None
        entered, exited = _evaluate_one(session, segment, context, ids, reason, held)
        changes[segment.id] = (len(entered), len(exited))
    return changes


def _memberships_of(session: Session, ids: list[str]) -> dict[str, set[str]]:
    """Return segment id -> which of these people are members, in one query per chunk."""
    held: dict[str, set[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(Member.segment_id, Member.profile_id).where(
                Member.profile_id.in_(ids[start : start + _CHUNK])
            )
        )
        for segment_id, profile_id in rows:
            held.setdefault(segment_id, set()).add(profile_id)
    return held


def _evaluate_one(
    session: Session,
    segment: LiveSegment,
    context: CompileContext,
    ids: list[str] | None,
    reason: str,
    held: set[str] | None,
) -> tuple[set[str], set[str]]:
    compiled = context if ids is None else dataclasses.replace(context, per_person=True)
    query = members_query(segment.condition, compiled)
    matched: set[str] = set()
    if ids is None:
        matched = set(session.scalars(query))
        current = set(
            session.scalars(select(Member.profile_id).where(Member.segment_id == segment.id))
        )
    else:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            matched |= set(session.scalars(query.where(Person.profile_id.in_(chunk))))
        current = held or set()
    entered, exited = matched - current, current - matched
    _write_changes(session, segment, entered, exited, context.now, reason)
    return entered, exited


def _write_changes(
    session: Session,
    segment: LiveSegment,
    entered: set[str],
    exited: set[str],
    now: datetime,
    reason: str,
) -> None:
    # Two workers evaluating the same person at once must not fail on the member key.
    insert_ignoring_duplicates(
        session,
        Member,
        [{"segment_id": segment.id, "profile_id": p, "since": now} for p in sorted(entered)],
        ["segment_id", "profile_id"],
    )
    exited_sorted = sorted(exited)
    for start in range(0, len(exited_sorted), _CHUNK):
        session.execute(
            delete(Member).where(
                Member.segment_id == segment.id,
                Member.profile_id.in_(exited_sorted[start : start + _CHUNK]),
            )
        )
    publish_many(
        session,
        [_domain_event(ENTERED, segment, p, now, reason) for p in sorted(entered)]
        + [_domain_event(EXITED, segment, p, now, reason) for p in exited_sorted],
    )


def _domain_event(
    topic: str, segment: LiveSegment, profile_id: str, now: datetime, reason: str
) -> dict[str, Any]:
    return {
        "topic": topic,
        "key": profile_id,
        "payload": {
            "segment_id": segment.id,
            "segment_version": segment.version,
            "profile_id": profile_id,
            "reason": reason,
        },
        "created_at": now,
    }


def record_sizes(session: Session, segment_ids: Sequence[str], now: datetime) -> None:
    """Sample the size of these segments for their history."""
    # A Result has keys(), so dict() would take it for a mapping: list its rows first.
    counts: dict[str, int] = dict(
        list(
            session.execute(
                select(Member.segment_id, func.count())
                .where(Member.segment_id.in_(segment_ids))
                .group_by(Member.segment_id)
            )
        )
    )
    # Two years of samples at the default interval are plenty for a history chart.
    session.execute(delete(SizeSample).where(SizeSample.at < now - _SIZE_HISTORY))
    rows = [{"segment_id": s, "at": now, "size": counts.get(s, 0)} for s in segment_ids]
    if rows:
        session.execute(insert(SizeSample), rows)


def _merge(session: Session, survivor: str, merged: str) -> None:
    session.execute(
        update(PersonEvent).where(PersonEvent.profile_id == merged).values(profile_id=survivor)
    )
    session.execute(update(Alias).where(Alias.profile_id == merged).values(profile_id=survivor))
    session.execute(delete(Alias).where(Alias.alias_id == merged))
    session.add(Alias(alias_id=merged, profile_id=survivor))
    session.execute(delete(Person).where(Person.profile_id == merged))
    # The merged-away id leaves its segments; the survivor is evaluated right after, and a
    # consumer can tell this exit from a real one by merged_into.
    left = list(session.scalars(select(Member.segment_id).where(Member.profile_id == merged)))
    session.execute(delete(Member).where(Member.profile_id == merged))
    now = system_clock()
    publish_many(
        session,
        [
            {
                "topic": EXITED,
                "key": merged,
                "payload": {
                    "segment_id": s,
                    "profile_id": merged,
                    "merged_into": survivor,
                    "reason": "merged",
                },
                "created_at": now,
            }
            for s in sorted(left)
        ],
    )
    session.flush()
