"""Tables owned by collect: sources and the event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, UTCDateTime


class Source(Base):
    """A touchpoint that sends events with its own write key."""

    __tablename__ = "collect_sources"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    write_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    write_key_prefix: Mapped[str] = mapped_column(String(12))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """One accepted message; ``seq`` orders the log and is the consumers' cursor."""

    __tablename__ = "collect_events"
    __table_args__ = (
        UniqueConstraint("source_id", "message_id"),
        Index("ix_collect_events_received_ms", "received_ms"),
        # Consumers keep a cursor on seq: after an erasure deletes the newest events, SQLite
        # would otherwise hand their numbers out again, below every cursor.
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    anonymous_id: Mapped[str | None] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(20))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[bytes] = mapped_column(LargeBinary)
