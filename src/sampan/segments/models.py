"""Tables owned by segments: a read model of people and events, definitions and members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime


class Person(Base):
    """What conditions test about one surviving profile, in columns SQL can compare."""

    __tablename__ = "segments_people"
    __table_args__ = (
        Index("ix_segments_people_total_spent", "total_spent"),
        Index("ix_segments_people_last_seen_ms", "last_seen_ms"),
    )

    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    traits: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    first_seen_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_seen_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    # minor units (satang) of the workspace currency
    total_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    last_order_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # "|email|phone|": a LIKE test answers "has an e-mail" on both backends
    identifier_types: Mapped[str] = mapped_column(String(400), default="|")
    # "|serum|toner|": the product categories ever bought, the same way
    bought_categories: Mapped[str] = mapped_column(Text, default="|")


class Score(Base):
    """A buyer's RFM scores (1-5, 5 best) and named group, recomputed on schedule."""

    __tablename__ = "segments_scores"
    __table_args__ = (Index("ix_segments_scores_rfm_group", "rfm_group"),)

    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recency: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    monetary: Mapped[int] = mapped_column(Integer)
    rfm_group: Mapped[str] = mapped_column(String(40))


class PersonEvent(Base):
    """A track, page or screen event of a person, with its properties."""

    __tablename__ = "segments_events"
    __table_args__ = (
        Index("ix_segments_events_name_ts", "name", "ts_ms", "profile_id"),
        Index("ix_segments_events_profile_id", "profile_id", "name", "ts_ms"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    profile_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class Alias(Base):
    """A profile merged away, and the surviving profile it now belongs to."""

    __tablename__ = "segments_aliases"
    __table_args__ = (Index("ix_segments_aliases_profile_id", "profile_id"),)

    alias_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(40))


class Segment(Base):
    """A segment's current definition."""

    __tablename__ = "segments_segments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Ready-made segments have a stable key, so installing them twice adds nothing.
    key: Mapped[str | None] = mapped_column(String(60), unique=True, default=None)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    condition: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    version: Mapped[int] = mapped_column(Integer, default=1)
    time_based: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SegmentVersion(Base):
    """Every definition a segment ever had."""

    __tablename__ = "segments_versions"

    segment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Member(Base):
    """A profile in a segment, since when."""

    __tablename__ = "segments_members"
    __table_args__ = (Index("ix_segments_members_profile_id", "profile_id"),)

    segment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class SizeSample(Base):
    """A segment's size at a moment, for its history chart."""

    __tablename__ = "segments_sizes"
    __table_args__ = (Index("ix_segments_sizes_segment_at", "segment_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    segment_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    size: Mapped[int] = mapped_column(Integer)
