"""HTTP routes of analytics under /api/analytics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sampan.access.guards import require
from sampan.access.schemas import Principal
from sampan.analytics import service
from sampan.analytics.schemas import Overview
from sampan.db.engine import Database
from sampan.db.requests import database

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
Db = Annotated[Database, Depends(database)]
Reader = Annotated[Principal, require("profiles:read")]


@router.get("/overview", response_model=Overview, summary="The home dashboard's figures")
def overview(request: Request, db: Db, _: Reader) -> Overview:
    """Return people, identified share, events today by channel, journeys, revenue, funnel."""
    state = request.app.state
    with db.reading() as session:
        return service.overview(
            session,
            context=state.segment_context(),
            timezone=state.timezone,
            currency=state.currency,
        )
