"""The outbox: domain events written in the same transaction as the change that caused them.

Consumers read them in order after commit, each from its own cursor, so a reaction is never
lost to a crash and never seen twice by the same consumer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime
from sampan.db.upsert import insert_ignoring_duplicates


class OutboxMessage(Base):
    """One domain event, e.g. ``segment.entered``."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_topic_id", "topic", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxCursor(Base):
    """How far one consumer has read the outbox."""

    __tablename__ = "outbox_cursors"

    consumer: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True)
class DomainEvent:
    """An outbox message as a consumer reads it."""

    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    created_at: datetime


# PostgreSQL hands out ids before commit, so a transaction holding a lower id may commit
# after a consumer read a higher one. Publishers hold this lock shared until they commit;
# a consumer takes it exclusively for an instant to learn the highest id with nothing
# still in flight below it. SQLite has one writer at a time and needs none of this.
_OUTBOX_LOCK = 7_201_001


def publish(
    session: Session, *, topic: str, key: str, payload: dict[str, Any], at: datetime
) -> None:
    """Record a domain event in the caller's transaction."""
    _announce(session)
    session.add(OutboxMessage(topic=topic, key=key, payload=payload, created_at=at))


def publish_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record many domain events (dicts of topic, key, payload, created_at) at once."""
    if rows:
        _announce(session)
        session.execute(insert(OutboxMessage), list(rows))


def _announce(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock_shared(_OUTBOX_LOCK)))


def _horizon(session: Session) -> int | None:
    """Return the highest id no uncommitted transaction can still fall below (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    session.execute(select(func.pg_advisory_lock(_OUTBOX_LOCK)))
    try:
        return session.scalar(select(func.max(OutboxMessage.id))) or 0
    finally:
        session.execute(select(func.pg_advisory_unlock(_OUTBOX_LOCK)))


def take(
    session: Session, *, consumer: str, topics: Sequence[str], limit: int = 500
) -> list[DomainEvent]:
    """Return the consumer's next events and move its cursor past them, in this transaction.

    The cursor row is locked, so two workers never take the same events; if the caller's
    transaction fails, the cursor stays and the events are taken again.
    """
    insert_ignoring_duplicates(
        session, OutboxCursor, [{"consumer": consumer, "last_id": 0}], ["consumer"]
    )
    cursor = session.scalar(
        select(OutboxCursor).where(OutboxCursor.consumer == consumer).with_for_update()
    )
    assert cursor is not None
    query = select(OutboxMessage).where(
        OutboxMessage.id > cursor.last_id, OutboxMessage.topic.in_(topics)
    )
    horizon = _horizon(session)
    if horizon is not None:
        query = query.where(OutboxMessage.id <= horizon)
    rows = list(session.scalars(query.order_by(OutboxMessage.id).limit(limit)))
    if rows:
        cursor.last_id = rows[-1].id
    return [DomainEvent(r.id, r.topic, r.key, r.payload, r.created_at) for r in rows]


def read(
    session: Session,
    *,
    topics: Sequence[str],
    after_id: int = 0,
    key: str | None = None,
    limit: int = 100,
) -> list[DomainEvent]:
    """Return events of these topics after an id, oldest first, without moving any cursor."""
    query = select(OutboxMessage).where(
        OutboxMessage.id > after_id, OutboxMessage.topic.in_(topics)
    )
    if key is not None:
        query = query.where(OutboxMessage.key == key)
    rows = session.scalars(query.order_by(OutboxMessage.id).limit(limit))
    return [DomainEvent(r.id, r.topic, r.key, r.payload, r.created_at) for r in rows]
