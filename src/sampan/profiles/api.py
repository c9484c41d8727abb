"""HTTP routes of the Customer 360 under /api/profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from sampan.db.engine import Database
from sampan.db.requests import database
from sampan.identity.schemas import MergeOut
from sampan.identity.service import IdentityRules, merge_history
from sampan.profiles import service
from sampan.profiles.schemas import (
    AttributesUpdate,
    NoteCreate,
    NoteOut,
    Profile360,
    SearchPage,
    TimelinePage,
    UnmergeRequest,
    UnmergeResult,
)

router = APIRouter(prefix="/api/profiles", tags=["profiles"])
Db = Annotated[Database, Depends(database)]


async def _rules(request: Request) -> IdentityRules:
    rules = request.app.state.identity_rules
    assert isinstance(rules, IdentityRules)
    return rules


async def _currency(request: Request) -> str:
    return str(request.app.state.currency)


Rules = Annotated[IdentityRules, Depends(_rules)]
Currency = Annotated[str, Depends(_currency)]


@router.get("", response_model=SearchPage, summary="Search profiles")
def search(
    db: Db,
    rules: Rules,
    currency: Currency,
    q: Annotated[str, Query(max_length=200, description="Name, e-mail or phone")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchPage:
    """Search by name (Thai or Latin), e-mail or phone written in any form."""
    with db.reading() as session:
        return service.search_profiles(
            session, query=q, rules=rules, currency=currency, limit=limit, offset=offset
        )


@router.get("/lookup", response_model=Profile360, summary="Look a profile up by identifier")
def lookup(request: Request, db: Db, rules: Rules, currency: Currency) -> Profile360:
    """Find the profile owning an identifier: ``?email=``, ``?phone=``, ``?line_user_id=``..."""
    identifiers = {k: v for k, v in request.query_params.items() if v != ""}
    with db.reading() as session:
        return service.lookup_profile(
            session, identifiers=identifiers, rules=rules, currency=currency
        )


@router.get("/{profile_id}", response_model=Profile360, summary="Customer 360")
def get_profile(profile_id: str, db: Db, currency: Currency) -> Profile360:
    """Return the Customer 360; a merged-away id answers with its surviving profile."""
    with db.reading() as session:
        return service.get_profile(session, profile_id=profile_id, currency=currency)


@router.get("/{profile_id}/events", response_model=TimelinePage, summary="Timeline")
def events(
    profile_id: str,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    channel: str | None = None,
    event: Annotated[str | None, Query(description="Event or page name")] = None,
) -> TimelinePage:
    """Return the profile's events across channels, newest first."""
    with db.reading() as session:
        return service.timeline(
            session,
            profile_id=profile_id,
            limit=limit,
            cursor=cursor,
            channel=channel,
            event=event,
        )


@router.get("/{profile_id}/merges", response_model=list[MergeOut], summary="Merge history")
def merges(profile_id: str, db: Db, currency: Currency) -> list[MergeOut]:
    """Return the merges this profile took part in, newest first."""
    with db.reading() as session:
        profile = service.get_profile(session, profile_id=profile_id, currency=currency)
        return merge_history(session, profile_id=profile.id)


@router.post("/{profile_id}/notes", response_model=NoteOut, status_code=201, summary="Add note")
def add_note(profile_id: str, body: NoteCreate, db: Db) -> NoteOut:
    """Add a staff note to the profile."""
    with db.transaction() as session:
        return service.add_note(session, profile_id=profile_id, body=body.body, author=body.author)


@router.patch("/{profile_id}/attributes", response_model=Profile360, summary="Set attributes")
def set_attributes(
    profile_id: str, body: AttributesUpdate, db: Db, currency: Currency
) -> Profile360:
    """Set custom attributes such as skin type or seating preference; null removes one."""
    with db.transaction() as session:
        return service.set_attributes(
            session, profile_id=profile_id, attributes=body.attributes, currency=currency
        )


@router.post("/{profile_id}/unmerge", response_model=UnmergeResult, summary="Undo a merge")
def unmerge(
    profile_id: str, db: Db, rules: Rules, currency: Currency, body: UnmergeRequest | None = None
) -> UnmergeResult:
    """Split a wrongly merged profile back out, re-attributing its events."""
    with db.transaction() as session:
        return service.unmerge_profile(
            session,
            profile_id=profile_id,
            merge_id=body.merge_id if body else None,
            rules=rules,
            currency=currency,
        )
