"""Tables owned by profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime


class Profile(Base):
    """One person. A merged-away profile keeps its row and points at its survivor."""

    __tablename__ = "profiles_profiles"
    __table_args__ = (
        Index("ix_profiles_profiles_last_seen_ms", "last_seen_ms"),
        Index("ix_profiles_profiles_merged_into", "merged_into"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merged_into: Mapped[str | None] = mapped_column(String(40), default=None)
    display_name: Mapped[str | None] = mapped_column(String(300), default=None)
    search_text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    custom: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    last_seen_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    # Set when the person's data was erased: the row keeps only non-personal aggregates.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TimelineEntry(Base):
    """Which profile an event of the log belongs to: the index of the Customer 360 timeline."""

    __tablename__ = "profiles_timeline"
    __table_args__ = (
        Index("ix_profiles_timeline_profile_ts", "profile_id", "timestamp_ms", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    profile_id: Mapped[str] = mapped_column(String(40))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))


class Note(Base):
    """A staff note on a profile."""

    __tablename__ = "profiles_notes"
    __table_args__ = (Index("ix_profiles_notes_profile_id", "profile_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(String(40))
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PipelineCursor(Base):
    """How far profiles has consumed collect's event log."""

    __tablename__ = "profiles_pipeline_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
