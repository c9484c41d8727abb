"""HTTP routes of the Customer 360 under /api/profiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from sampan.access import service as access
from sampan.access.guards import audit_log, require
from sampan.access.schemas import Permission, Principal
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
Reader = Annotated[Principal, require(Permission.PROFILES_READ)]
Writer = Annotated[Principal, require(Permission.PROFILES_WRITE)]
AuditLog = Annotated[access.AuditBatcher, Depends(audit_log)]


def _audit(
    log: access.AuditBatcher,
    actor: Principal,
    action: str,
    profile_id: str | None,
    detail: dict[str, Any],
) -> None:
    """Record that the actor saw personal data, after the read: views that fail are not."""
    log.record(
        actor=actor, action=action, subject_type="profile", subject_id=profile_id, detail=detail
    )


def _record(
    session: Session, actor: Principal, action: str, profile_id: str | None, detail: dict[str, Any]
) -> None:
    access.record_audit(
        session,
        actor=actor,
        action=action,
        subject_type="profile",
        subject_id=profile_id,
        detail=detail,
    )


def _viewed(actor: Principal, view: str) -> dict[str, Any]:
    return {"view": view, "masked": not actor.can(Permission.PII_READ)}


@router.get("", response_model=SearchPage, summary="Search profiles")
def search(
    db: Db,
    rules: Rules,
    currency: Currency,
    actor: Reader,
    log: AuditLog,
    q: Annotated[str, Query(max_length=200, description="Name, e-mail or phone")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchPage:
    """Search by name (Thai or Latin), e-mail or phone written in any form."""
    with db.reading() as session:
        page = service.search_profiles(
            session, query=q, rules=rules, currency=currency, limit=limit, offset=offset
        )
    # The count, never the query: the query is often the person's phone or name.
    detail = {"returned": len(page.items), "total": page.total}
    _audit(log, actor, "profiles.searched", None, detail | _viewed(actor, "search"))
    return page


@router.get("/lookup", response_model=Profile360, summary="Look a profile up by identifier")
def lookup(
    request: Request, db: Db, rules: Rules, currency: Currency, actor: Reader, log: AuditLog
) -> Profile360:
    """Find the profile owning an identifier: ``?email=``, ``?phone=``, ``?line_user_id=``..."""
    identifiers = {k: v for k, v in request.query_params.items() if v != ""}
    with db.reading() as session:
        profile = service.lookup_profile(
            session, identifiers=identifiers, rules=rules, currency=currency
        )
    detail = {"by": sorted(identifiers)} | _viewed(actor, "lookup")
    _audit(log, actor, "profile.viewed", profile.id, detail)
    return profile


@router.get("/{profile_id}", response_model=Profile360, summary="Customer 360")
def get_profile(
    profile_id: str, db: Db, currency: Currency, actor: Reader, log: AuditLog
) -> Profile360:
    """Return the Customer 360; a merged-away id answers with its surviving profile."""
    with db.reading() as session:
        profile = service.get_profile(session, profile_id=profile_id, currency=currency)
    _audit(log, actor, "profile.viewed", profile.id, _viewed(actor, "profile"))
    return profile


@router.get("/{profile_id}/events", response_model=TimelinePage, summary="Timeline")
def events(
    profile_id: str,
    db: Db,
    actor: Reader,
    log: AuditLog,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    channel: str | None = None,
    event: Annotated[str | None, Query(description="Event or page name")] = None,
) -> TimelinePage:
    """Return the profile's events across channels, newest first."""
    with db.reading() as session:
        page = service.timeline(
            session,
            profile_id=profile_id,
            limit=limit,
            cursor=cursor,
            channel=channel,
            event=event,
        )
    detail = {"events": len(page.items)} | _viewed(actor, "timeline")
    _audit(log, actor, "profile.viewed", profile_id, detail)
    return page


@router.get("/{profile_id}/merges", response_model=list[MergeOut], summary="Merge history")
def merges(
    profile_id: str, db: Db, currency: Currency, actor: Reader, log: AuditLog
) -> list[MergeOut]:
    """Return the merges this profile took part in, newest first."""
    with db.reading() as session:
        profile = service.get_profile(session, profile_id=profile_id, currency=currency)
        history = merge_history(session, profile_id=profile.id)
    _audit(log, actor, "profile.viewed", profile.id, _viewed(actor, "merges"))
    return history


@router.post("/{profile_id}/notes", response_model=NoteOut, status_code=201, summary="Add note")
def add_note(profile_id: str, body: NoteCreate, db: Db, actor: Writer) -> NoteOut:
    """Add a staff note to the profile."""
    with db.transaction() as session:
        note = service.add_note(session, profile_id=profile_id, body=body.body, author=body.author)
        detail = {"change": "note_added", "note_id": note.id}
        _record(session, actor, "profile.updated", profile_id, detail)
        return note


@router.patch("/{profile_id}/attributes", response_model=Profile360, summary="Set attributes")
def set_attributes(
    profile_id: str, body: AttributesUpdate, db: Db, currency: Currency, actor: Writer
) -> Profile360:
    """Set custom attributes such as skin type or seating preference; null removes one."""
    with db.transaction() as session:
        profile = service.set_attributes(
            session, profile_id=profile_id, attributes=body.attributes, currency=currency
        )
        detail = {"change": "attributes", "fields": sorted(body.attributes)}
        _record(session, actor, "profile.updated", profile.id, detail)
        return profile


@router.post("/{profile_id}/unmerge", response_model=UnmergeResult, summary="Undo a merge")
def unmerge(
    profile_id: str,
    db: Db,
    rules: Rules,
    currency: Currency,
    actor: Writer,
    body: UnmergeRequest | None = None,
) -> UnmergeResult:
    """Split a wrongly merged profile back out, re-attributing its events."""
    with db.transaction() as session:
        result = service.unmerge_profile(
            session,
            profile_id=profile_id,
            merge_id=body.merge_id if body else None,
            rules=rules,
            currency=currency,
        )
        detail = {
            "change": "unmerged",
            "restored_id": result.restored.id,
            "moved_events": result.moved_events,
        }
        _record(session, actor, "profile.updated", result.survivor.id, detail)
        return result
