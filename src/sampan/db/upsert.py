"""Insert rows, skipping those that collide with a unique constraint, on either backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_duplicates(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], conflict_columns: list[str]
) -> None:
    """Insert ``rows`` into ``model``'s table; rows breaking the unique key are dropped."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
        session.connection().execute(pg, rows)
    else:
        lite = sqlite.insert(model).on_conflict_do_nothing(index_elements=conflict_columns)
        session.connection().execute(lite, rows)
