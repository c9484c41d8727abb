"""HTTP routes of collect's management API: sources under /api/sources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sampan.access import service as access
from sampan.access.guards import require
from sampan.access.schemas import Permission, Principal
from sampan.collect import service
from sampan.collect.schemas import IssuedSource, SourceCreate, SourceInfo, SourceUpdate
from sampan.collect.tracking import CollectRuntime
from sampan.db.engine import Database
from sampan.db.requests import database

sources_router = APIRouter(prefix="/api/sources", tags=["sources"])
Manager = Annotated[Principal, require(Permission.SOURCES_MANAGE)]


def _runtime(request: Request) -> CollectRuntime:
    runtime = request.app.state.collect
    assert isinstance(runtime, CollectRuntime)
    return runtime


@sources_router.get("", response_model=list[SourceInfo], summary="List sources")
def list_sources(db: Annotated[Database, Depends(database)], _: Manager) -> list[SourceInfo]:
    """List every source; write keys are never shown again."""
    with db.reading() as session:
        return service.list_sources(session)


@sources_router.post("", response_model=IssuedSource, status_code=201, summary="Create a source")
def create_source(
    body: SourceCreate, db: Annotated[Database, Depends(database)], actor: Manager
) -> IssuedSource:
    """Create a source; the response holds its write key, shown only this once."""
    with db.transaction() as session:
        source = service.create_source(session, name=body.name, kind=body.kind)
        access.record_audit(
            session,
            actor=actor,
            action="source.created",
            subject_type="source",
            subject_id=source.id,
            detail={"kind": source.kind},
        )
        return source


@sources_router.patch("/{source_id}", response_model=SourceInfo, summary="Enable or disable")
def update_source(
    source_id: str,
    body: SourceUpdate,
    request: Request,
    db: Annotated[Database, Depends(database)],
    actor: Manager,
) -> SourceInfo:
    """Enable or disable a source; a disabled source's key is refused at once."""
    with db.transaction() as session:
        info = service.set_source_enabled(session, source_id=source_id, enabled=body.enabled)
        access.record_audit(
            session,
            actor=actor,
            action="source.enabled" if body.enabled else "source.disabled",
            subject_type="source",
            subject_id=source_id,
        )
    _runtime(request).keys.clear()
    return info
