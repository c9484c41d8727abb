"""Access: users, sessions, roles, API key scopes and expiry, audit log.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = "access_audit_log is append-only: audit entries cannot be changed or deleted"
# A batch operation that recreates access_audit_log on SQLite drops these triggers: a later
# migration doing so must create them again.
_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER access_audit_log_no_{verb.lower()}
    BEFORE {verb} ON access_audit_log
    BEGIN
        SELECT RAISE(ABORT, '{_APPEND_ONLY}');
    END
    """
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_TRIGGER = [
    f"""
    CREATE FUNCTION access_audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_APPEND_ONLY}';
    END
    $$
    """,
    """
    CREATE TRIGGER access_audit_log_append_only
    BEFORE UPDATE OR DELETE ON access_audit_log
    FOR EACH ROW EXECUTE FUNCTION access_audit_log_append_only()
    """,
]


def upgrade() -> None:
    with op.batch_alter_table("access_api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=40), server_default="admin", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "scopes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=100), nullable=True))

    op.create_table(
        "access_users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_users")),
        sa.UniqueConstraint("email", name=op.f("uq_access_users_email")),
    )
    op.create_table(
        "access_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_sessions_token_hash")),
    )
    with op.batch_alter_table("access_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_access_sessions_user_id", ["user_id"], unique=False)

    op.create_table(
        "access_audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.String(length=100), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_audit_log")),
    )
    with op.batch_alter_table("access_audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_access_audit_log_action", ["action"], unique=False)
        batch_op.create_index("ix_access_audit_log_actor_id", ["actor_id"], unique=False)
        batch_op.create_index("ix_access_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_access_audit_log_subject_id", ["subject_id"], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRES_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS access_audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS access_audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_audit_log_append_only ON access_audit_log")
        op.execute("DROP FUNCTION IF EXISTS access_audit_log_append_only()")
    with op.batch_alter_table("access_audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_access_audit_log_subject_id")
        batch_op.drop_index("ix_access_audit_log_at")
        batch_op.drop_index("ix_access_audit_log_actor_id")
        batch_op.drop_index("ix_access_audit_log_action")

    op.drop_table("access_audit_log")
    with op.batch_alter_table("access_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_access_sessions_user_id")

    op.drop_table("access_sessions")
    op.drop_table("access_users")
    with op.batch_alter_table("access_api_keys", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
        batch_op.drop_column("role")
