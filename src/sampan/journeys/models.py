"""Tables owned by journeys: journeys and their versions, runs, the step log, coupons, tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime


class Journey(Base):
    """A journey: the draft being edited, and which published version runs."""

    __tablename__ = "journeys_journeys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # draft (never published), live, paused, archived
    status: Mapped[str] = mapped_column(String(12))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    # The version new runs start on; 0 until the first publish.
    version: Mapped[int] = mapped_column(Integer, default=0)
    playbook: Mapped[str | None] = mapped_column(String(60), default=None)
    # The last tick of a date or schedule entry that started runs.
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JourneyVersion(Base):
    """A published definition; runs keep the version they started on unless migrated."""

    __tablename__ = "journeys_versions"

    journey_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Run(Base):
    """One person's way through one journey; every timer lives here."""

    __tablename__ = "journeys_runs"
    __table_args__ = (
        Index("ix_journeys_runs_status_due", "status", "due_at"),
        Index("ix_journeys_runs_profile", "profile_id", "journey_id"),
        Index("ix_journeys_runs_journey_node", "journey_id", "status", "node_id"),
        # One run per person and entry key value, ever (NULL keys do not collide).
        UniqueConstraint("journey_id", "profile_id", "entry_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    journey_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    profile_id: Mapped[str] = mapped_column(String(40))
    entry_key: Mapped[str | None] = mapped_column(String(200), default=None)
    # active, completed, exited, held_out, failed
    status: Mapped[str] = mapped_column(String(12))
    node_id: Mapped[str | None] = mapped_column(String(60), default=None)
    # Whether the run already started waiting at its node (the timer is set).
    waiting: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the worker next looks at the run; NULL once it has finished.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The event a wait_for_event node waits for, and the log position it must come after.
    waiting_for: Mapped[str | None] = mapped_column(String(200), default=None)
    wait_after_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The log position of the entry (an event's seq): goal events must come after it.
    entry_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The entry event (name, properties, time) for templates; coupon codes issued.
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    goal_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revenue: Mapped[float | None] = mapped_column(Float, default=None)
    # The split path taken, if the journey has a split (for per-path conversion).
    path: Mapped[str | None] = mapped_column(String(40), default=None)
    steps: Mapped[int] = mapped_column(Integer, default=0)


class Step(Base):
    """One node a run passed, and what came of it: the path taken, for metrics and audit."""

    __tablename__ = "journeys_steps"
    __table_args__ = (
        Index("ix_journeys_steps_journey_node", "journey_id", "node_id", "outcome"),
        Index("ix_journeys_steps_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(40))
    journey_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    node_id: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Coupon(Base):
    """A unique single-use code a journey issued to a person."""

    __tablename__ = "journeys_coupons"
    __table_args__ = (
        Index("ix_journeys_coupons_profile", "profile_id"),
        UniqueConstraint("run_id", "node_id"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    journey_id: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str] = mapped_column(String(40))
    node_id: Mapped[str] = mapped_column(String(60))
    profile_id: Mapped[str] = mapped_column(String(40))
    percent: Mapped[float | None] = mapped_column(Float, default=None)
    amount: Mapped[float | None] = mapped_column(Float, default=None)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    order_id: Mapped[str | None] = mapped_column(String(200), default=None)


class Task(Base):
    """Work a journey created for a team, e.g. "call this customer back"."""

    __tablename__ = "journeys_tasks"
    __table_args__ = (
        Index("ix_journeys_tasks_team_status", "team", "status"),
        UniqueConstraint("run_id", "node_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    journey_id: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str] = mapped_column(String(40))
    node_id: Mapped[str] = mapped_column(String(60))
    profile_id: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    # open, done
    status: Mapped[str] = mapped_column(String(8))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
