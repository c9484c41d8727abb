"""Every model change comes with its migration, on both backends."""

from __future__ import annotations

from alembic import command

from sampan.db.migrate import alembic_config


def test_models_and_migrations_agree(database_url: str) -> None:
    command.check(alembic_config(database_url))
