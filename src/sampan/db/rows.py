"""Run a bulk UPDATE or DELETE and say how many rows it touched."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def affected_rows(session: Session, statement: Executable) -> int:
    """Execute a bulk statement in the session's transaction; return its row count."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount or 0
