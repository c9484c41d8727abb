"""Collect's facade: sources and write keys, accepting messages, reading the event log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from sampan.collect.ingest import IngestWriter, store_messages
from sampan.collect.models import Event, Source
from sampan.collect.schemas import CollectedEvent, IssuedSource, SourceInfo, SourceKind
from sampan.collect.segment_spec import (
    SOURCE_KINDS,
    AcceptedMessage,
    MessageRejected,
    normalise_messages,
    server_track,
)
from sampan.core.batching import chunks
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import InvalidInput, NotFound, Unauthorized
from sampan.core.ids import new_id
from sampan.core.personal_data import DataSubject, Rows
from sampan.core.secrets import hash_secret, new_secret
from sampan.db.rows import affected_rows

__all__ = [
    "AcceptedMessage",
    "IngestWriter",
    "MessageRejected",
    "authenticate_write_key",
    "channel_counts",
    "count_events",
    "count_events_after",
    "create_source",
    "erase_personal_data",
    "export_personal_data",
    "get_events",
    "latest_seq",
    "list_sources",
    "normalise_messages",
    "purge_events",
    "read_events_after",
    "server_track",
    "set_source_enabled",
    "store_messages",
    "track_for_domain",
]


def track_for_domain(
    session: Session, *, source_name: str, payloads: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Log events another domain emits (journeys, commerce) through its own server source.

    Each payload is a Segment track message naming the person (userId, anonymousId or
    context.externalIds); the pipeline folds it like any other event.
    """
    if not payloads:
        return
    source_id = next(
        (source.id for source in list_sources(session) if source.name == source_name), None
    )
    if source_id is None:
        source_id = create_source(session, name=source_name, kind="server").id
    stamped = [{**payload, "timestamp": now.isoformat()} for payload in payloads]
    accepted = normalise_messages(
        {"batch": stamped}, endpoint_type=None, source_kind="server", received_at=now
    )
    store_messages(
        session,
        source_id=source_id,
        messages=accepted,
        received_ms=int(now.timestamp() * 1000),
    )


def create_source(
    session: Session, *, name: str, kind: SourceKind | str, clock: Clock = system_clock
) -> IssuedSource:
    """Create a source and return it with its write key, which is not stored."""
    if kind not in SOURCE_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    if not name.strip():
        raise InvalidInput("a source needs a name")
    write_key = new_secret("wk")
    row = Source(
        id=new_id("src"),
        name=name.strip(),
        kind=kind,
        write_key_hash=hash_secret(write_key),
        write_key_prefix=write_key[:10],
        enabled=True,
        created_at=clock(),
    )
    session.add(row)
    session.flush()
    return IssuedSource(**_info(row).model_dump(), write_key=write_key)


def list_sources(session: Session) -> list[SourceInfo]:
    """Return every source, oldest first."""
    return [_info(row) for row in session.scalars(select(Source).order_by(Source.id))]


def set_source_enabled(session: Session, *, source_id: str, enabled: bool) -> SourceInfo:
    """Enable or disable a source; a disabled source's write key is refused."""
    row = session.get(Source, source_id)
    if row is None:
        raise NotFound(f"source '{source_id}' does not exist")
    row.enabled = enabled
    return _info(row)


def authenticate_write_key(session: Session, *, write_key: str) -> SourceInfo:
    """Return the enabled source that owns ``write_key`` or raise Unauthorized."""
    row = session.scalar(select(Source).where(Source.write_key_hash == hash_secret(write_key)))
    if row is None:
        raise Unauthorized("invalid write key")
    if not row.enabled:
        raise Unauthorized(f"source '{row.name}' is disabled")
    return _info(row)


def read_events_after(session: Session, *, after_seq: int, limit: int) -> list[CollectedEvent]:
    """Return up to ``limit`` events of the log with ``seq`` above ``after_seq``, in order."""
    rows = session.execute(
        select(*_EVENT_COLUMNS).where(Event.seq > after_seq).order_by(Event.seq).limit(limit)
    )
    return [_event(*row) for row in rows]


def get_events(session: Session, *, seqs: Sequence[int]) -> list[CollectedEvent]:
    """Return the events with these sequence numbers, in the order asked."""
    if not seqs:
        return []
    rows = {
        row[0]: row for row in session.execute(select(*_EVENT_COLUMNS).where(Event.seq.in_(seqs)))
    }
    return [_event(*rows[seq]) for seq in seqs if seq in rows]


def latest_seq(session: Session) -> int:
    """Return the sequence number of the newest event, 0 for an empty log."""
    return session.scalar(select(func.max(Event.seq))) or 0


def channel_counts(session: Session, *, received_since_ms: int) -> dict[str, int]:
    """Return how many events each channel sent since a moment (by when they arrived)."""
    rows = session.execute(
        select(Event.channel, func.count())
        .where(Event.received_ms >= received_since_ms)
        .group_by(Event.channel)
    )
    return {str(row[0]): int(row[1]) for row in rows}


def count_events(session: Session) -> int:
    """Return how many events the log holds."""
    return session.scalar(select(func.count()).select_from(Event)) or 0


def count_events_after(session: Session, *, after_seq: int) -> int:
    """Return how many events the log holds above ``after_seq``."""
    query = select(func.count()).select_from(Event).where(Event.seq > after_seq)
    return session.scalar(query) or 0


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return the person's events as they were collected."""
    rows = []
    for chunk in chunks(sorted(_event_seqs(session, subject))):
        for event in get_events(session, seqs=chunk):
            rows.append(
                {
                    "seq": event.seq,
                    "type": event.type,
                    "name": event.name,
                    "channel": event.channel,
                    "timestamp": event.timestamp.isoformat(),
                    "received_at": event.received_at.isoformat(),
                    "message": event.message,
                }
            )
    return {"events": rows}


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Delete every logged event of the person."""
    removed = 0
    for chunk in chunks(sorted(_event_seqs(session, subject))):
        removed += affected_rows(session, delete(Event).where(Event.seq.in_(chunk)))
    return {"events": removed}


def purge_events(session: Session, *, received_before_ms: int, up_to_seq: int) -> int:
    """Delete events received before a time, never past ``up_to_seq`` (still unprocessed)."""
    return affected_rows(
        session,
        delete(Event).where(Event.received_ms < received_before_ms, Event.seq <= up_to_seq),
    )


def _event_seqs(session: Session, subject: DataSubject) -> set[int]:
    """Return the person's events: attributed ones, and any naming one of their ids."""
    seqs = set(subject.event_seqs)
    user_ids = [value for kind, value in subject.identifiers if kind == "user_id"]
    anonymous_ids = [value for kind, value in subject.identifiers if kind == "anonymous_id"]
    if user_ids or anonymous_ids:
        seqs.update(
            session.scalars(
                select(Event.seq).where(
                    or_(Event.user_id.in_(user_ids), Event.anonymous_id.in_(anonymous_ids))
                )
            )
        )
    return seqs


def _info(row: Source) -> SourceInfo:
    return SourceInfo(
        id=row.id,
        name=row.name,
        kind=row.kind,
        enabled=row.enabled,
        write_key_prefix=row.write_key_prefix,
        created_at=row.created_at,
    )


_EVENT_COLUMNS = (
    Event.seq,
    Event.source_id,
    Event.message_id,
    Event.type,
    Event.name,
    Event.user_id,
    Event.anonymous_id,
    Event.channel,
    Event.timestamp_ms,
    Event.received_ms,
    Event.body,
)


def _event(
    seq: int,
    source_id: str,
    message_id: str,
    type_: str,
    name: str | None,
    user_id: str | None,
    anonymous_id: str | None,
    channel: str,
    timestamp_ms: int,
    received_ms: int,
    body: bytes,
) -> CollectedEvent:
    return CollectedEvent(
        seq=seq,
        source_id=source_id,
        message_id=message_id,
        type=type_,
        name=name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        channel=channel,
        timestamp_ms=timestamp_ms,
        received_ms=received_ms,
        message=orjson.loads(body),
    )
