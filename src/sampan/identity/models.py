"""Tables owned by identity."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc


class IdentityRecord(Base):
    """One normalised identifier and the profile that owns it."""

    __tablename__ = "identity_identifiers"
    __table_args__ = (
        # Value first: lookups ask "who owns any of these values?" in one indexed IN query.
        UniqueConstraint("value", "type"),
        Index("ix_identity_identifiers_profile_id", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(255))
    profile_id: Mapped[str] = mapped_column(String(40))
    first_seq: Mapped[int] = mapped_column(BigInteger)
    linked_ms: Mapped[int] = mapped_column(BigInteger)


class MergeRecord(Base):
    """A merge of two profiles, kept so it can be explained and undone."""

    __tablename__ = "identity_merges"
    __table_args__ = (
        Index("ix_identity_merges_survivor_id", "survivor_id"),
        Index("ix_identity_merges_merged_id", "merged_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    survivor_id: Mapped[str] = mapped_column(String(40))
    merged_id: Mapped[str] = mapped_column(String(40))
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    moved: Mapped[list[list[str]]] = mapped_column(JSONDoc)
    trigger: Mapped[list[list[str]]] = mapped_column(JSONDoc)
    merged_ms: Mapped[int] = mapped_column(BigInteger)
    undone_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)


class LinkDecision(Base):
    """An identifier that an event carried but that was deliberately not linked."""

    __tablename__ = "identity_decisions"
    # One row per refused link, however many events repeat it.
    __table_args__ = (UniqueConstraint("profile_id", "type", "value", "reason"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_seq: Mapped[int | None] = mapped_column(BigInteger)
    profile_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(20))
    decided_ms: Mapped[int] = mapped_column(BigInteger)


class MergeGuard(Base):
    """Two profiles that were un-merged and must not be merged again automatically."""

    __tablename__ = "identity_merge_guards"
    __table_args__ = (UniqueConstraint("profile_a", "profile_b"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    profile_a: Mapped[str] = mapped_column(String(40))
    profile_b: Mapped[str] = mapped_column(String(40))
