"""Insert rows, skipping those that collide with a unique constraint, on either backend."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], conflict_columns: list[str]
) -> None:
    """Insert ``rows`` into ``model``'s table; rows breaking the unique key are dropped."""
    if not rows:
        return
    statement = _insert(session.get_bind().dialect.name, model.__table__, tuple(conflict_columns))
    session.connection().execute(statement, rows)


@functools.cache
def _insert(dialect: str, table: Table, conflict_columns: tuple[str, ...]) -> Insert:
    """Return the statement, built once: building it costs more than a small insert."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
