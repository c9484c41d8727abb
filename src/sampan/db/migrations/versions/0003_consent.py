"""Consent: records, blocks, suppressions, data-subject requests, retention runs, erasure.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Never reuse an event seq once erasure deletes the newest events (cursors point past).
        with op.batch_alter_table(
            "collect_events", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    op.create_table(
        "consent_blocks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_blocks")),
        sa.UniqueConstraint("profile_id", "kind", name=op.f("uq_consent_blocks_profile_id_kind")),
    )
    op.create_table(
        "consent_records",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lawful_basis", sa.String(length=24), nullable=False),
        sa.Column("notice_version", sa.String(length=60), nullable=True),
        sa.Column("notice_language", sa.String(length=60), nullable=True),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("capture_channel", sa.String(length=20), nullable=True),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
        sa.UniqueConstraint(
            "event_seq",
            "purpose",
            "channel",
            name=op.f("uq_consent_records_event_seq_purpose_channel"),
        ),
    )
    op.create_index(
        "ix_consent_records_profile_slot",
        "consent_records",
        ["profile_id", "purpose", "channel"],
        unique=False,
    )
    op.create_table(
        "consent_request_steps",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_request_steps")),
    )
    op.create_index(
        "ix_consent_request_steps_request_id", "consent_request_steps", ["request_id"], unique=False
    )
    op.create_table(
        "consent_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("requester", sa.Text(), nullable=False),
        sa.Column("verification_note", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_requests")),
    )
    op.create_index(
        op.f("ix_consent_requests_profile_id"), "consent_requests", ["profile_id"], unique=False
    )
    op.create_index(
        "ix_consent_requests_status_due", "consent_requests", ["status", "due_at"], unique=False
    )
    op.create_table(
        "consent_retention_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed", JSON, nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_retention_runs")),
    )
    op.create_table(
        "consent_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_consent_secrets")),
    )
    op.create_table(
        "consent_suppressions",
        sa.Column("identifier_hash", sa.String(length=64), nullable=False),
        sa.Column("identifier_type", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identifier_hash", name=op.f("pk_consent_suppressions")),
    )
    op.add_column(
        "profiles_profiles",
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("profiles_profiles", "erased_at")
    op.drop_table("consent_suppressions")
    op.drop_table("consent_secrets")
    op.drop_table("consent_retention_runs")
    op.drop_index("ix_consent_requests_status_due", table_name="consent_requests")
    op.drop_index(op.f("ix_consent_requests_profile_id"), table_name="consent_requests")
    op.drop_table("consent_requests")
    op.drop_index("ix_consent_request_steps_request_id", table_name="consent_request_steps")
    op.drop_table("consent_request_steps")
    op.drop_index("ix_consent_records_profile_slot", table_name="consent_records")
    op.drop_table("consent_records")
    op.drop_table("consent_blocks")
