"""Request-scoped access to the database for the domains' HTTP routes."""

from __future__ import annotations

from fastapi import Request

from sampan.db.engine import Database


async def database(request: Request) -> Database:
    """Return the app's database; routes open their unit of work from it."""
    db = request.app.state.db
    assert isinstance(db, Database)
    return db
