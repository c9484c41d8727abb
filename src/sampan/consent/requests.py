"""Data-subject requests (PDPA sections 30-36): record, track to the 30-day deadline, fulfil."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sampan.access import service as access
from sampan.access.schemas import Principal
from sampan.consent import records, subjects
from sampan.consent.models import PrivacyRequest, RequestStep
from sampan.consent.schemas import (
    ErasureReport,
    RequestCreate,
    RequestOut,
    RequestPage,
    RequestStepOut,
    RequestTransition,
)
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import Conflict, InvalidInput, NotFound
from sampan.core.ids import new_id
from sampan.core.personal_data import PersonalDataRegistry
from sampan.db.rows import affected_rows
from sampan.profiles import service as profiles

_OPEN = ("open", "in_progress")
_REDACTED = "[erased]"


def open_request(
    session: Session,
    *,
    request: RequestCreate,
    actor: Principal,
    due_days: int,
    clock: Clock = system_clock,
) -> RequestOut:
    """Record a data-subject request; it is due ``due_days`` after it was received."""
    person = profiles.find_person(session, profile_id=request.profile_id)
    if person.erased_at is not None:
        raise InvalidInput(
            f"profile '{request.profile_id}' was erased on "
            f"{person.erased_at.date().isoformat()}: Sampan holds no personal data of it"
        )
    if request.type == "rectification":
        _rectified_traits(request.details)
    now = clock()
    row = PrivacyRequest(
        id=new_id("dsr"),
        type=request.type,
        profile_id=person.profile_id,
        requester=request.requester,
        verification_note=request.verification_note,
        details=request.details,
        status="open",
        received_at=now,
        due_at=now + timedelta(days=due_days),
        result={},
    )
    session.add(row)
    _step(session, row, actor, "received", f"{request.type} request", clock)
    session.flush()
    return _out(session, row, clock)


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    overdue: bool = False,
    profile_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    clock: Clock = system_clock,
) -> RequestPage:
    """List requests, soonest due first; ``overdue`` keeps open ones past their due date."""
    query = select(PrivacyRequest)
    if status:
        query = query.where(PrivacyRequest.status == status)
    if overdue:
        query = query.where(PrivacyRequest.status.in_(_OPEN), PrivacyRequest.due_at < clock())
    if profile_id:
        query = query.where(PrivacyRequest.profile_id == profile_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(PrivacyRequest.due_at, PrivacyRequest.id).limit(limit).offset(offset)
    )
    return RequestPage(items=[_out(session, row, clock) for row in rows], total=total)


def get_request(session: Session, *, request_id: str, clock: Clock = system_clock) -> RequestOut:
    """Return one request with its trail."""
    return _out(session, _row(session, request_id), clock)


def transition_request(
    session: Session,
    *,
    request_id: str,
    change: RequestTransition,
    actor: Principal,
    clock: Clock = system_clock,
) -> RequestOut:
    """Start work on an open request, or reject it with a reason (e.g. identity unverified)."""
    row = _open_row(session, request_id)
    if change.status == "rejected" and not change.note.strip():
        raise InvalidInput(
            "a rejection needs a note giving the reason, which the requester is owed"
        )
    row.status = change.status
    if change.status == "rejected":
        row.closed_at = clock()
    _step(session, row, actor, change.status, change.note, clock)
    session.flush()
    return _out(session, row, clock)


def fulfil_request(
    session: Session,
    *,
    registry: PersonalDataRegistry,
    request_id: str,
    actor: Principal,
    currency: str,
    clock: Clock = system_clock,
) -> RequestOut:
    """Carry out an erasure, restriction, objection or rectification request and close it."""
    row = _open_row(session, request_id)
    result: dict[str, Any]
    if row.type == "access":
        raise InvalidInput(
            "an access request is fulfilled by downloading its export: "
            f"POST /api/privacy/requests/{row.id}/export"
        )
    if row.type == "erasure":
        report = subjects.erase_person(
            session,
            registry=registry,
            profile_id=row.profile_id,
            actor=actor,
            request_id=row.id,
            clock=clock,
        )
        result = {"removed": report.removed, "suppressed": report.suppressed_identifiers}
        close_erasure_requests(session, report=report, actor=actor, clock=clock, skip=row.id)
    elif row.type in ("restriction", "objection"):
        kind = "restricted" if row.type == "restriction" else "objected"
        blocks = records.set_block(
            session,
            profile_id=row.profile_id,
            kind=kind,
            active=True,
            actor=actor,
            request_id=row.id,
            clock=clock,
        )
        result = {"blocks": blocks}
    else:
        traits = _rectified_traits(row.details)
        profiles.rectify_traits(
            session, profile_id=row.profile_id, traits=traits, currency=currency, clock=clock
        )
        access.record_audit(
            session,
            actor=actor,
            action="profile.rectified",
            subject_type="profile",
            subject_id=row.profile_id,
            detail={"fields": sorted(traits), "request_id": row.id},
            clock=clock,
        )
        result = {"rectified": sorted(traits)}
    _close(session, row, actor, result, clock)
    return _out(session, row, clock)


def export_request(
    session: Session,
    *,
    registry: PersonalDataRegistry,
    request_id: str,
    actor: Principal,
    clock: Clock = system_clock,
) -> bytes:
    """Build the export of an access request and close it."""
    row = _row(session, request_id)
    if row.type != "access":
        raise InvalidInput(f"request '{request_id}' is a {row.type} request, not an access request")
    if row.status not in _OPEN:
        raise Conflict(f"request '{request_id}' is already {row.status}")
    archive = subjects.export_person(
        session,
        registry=registry,
        profile_id=row.profile_id,
        actor=actor,
        request_id=row.id,
        clock=clock,
    )
    _close(session, row, actor, {"export_bytes": len(archive)}, clock)
    return archive


def close_erasure_requests(
    session: Session,
    *,
    report: ErasureReport,
    actor: Principal,
    clock: Clock = system_clock,
    skip: str | None = None,
) -> int:
    """Close the person's open erasure requests once they were erased another way."""
    rows = session.scalars(
        select(PrivacyRequest).where(
            PrivacyRequest.profile_id == report.profile_id,
            PrivacyRequest.type == "erasure",
            PrivacyRequest.status.in_(_OPEN),
            PrivacyRequest.id != (skip or ""),
        )
    )
    closed = 0
    for row in rows:
        _close(session, row, actor, {"removed": report.removed}, clock)
        closed += 1
    return closed


def redact_requesters(session: Session, profile_ids: list[str]) -> int:
    """Replace the requester details and notes of a person's requests after their erasure."""
    theirs = select(PrivacyRequest.id).where(PrivacyRequest.profile_id.in_(profile_ids))
    session.execute(
        update(RequestStep)
        .where(RequestStep.request_id.in_(theirs), RequestStep.note != "")
        .values(note=_REDACTED)
    )
    return affected_rows(
        session,
        update(PrivacyRequest)
        .where(PrivacyRequest.profile_id.in_(profile_ids))
        .values(requester=_REDACTED, verification_note=_REDACTED, details={}),
    )


def _rectified_traits(details: dict[str, Any]) -> dict[str, Any]:
    traits = details.get("traits")
    if not isinstance(traits, dict) or not traits:
        raise InvalidInput(
            "a rectification request needs details.traits: the corrected values, "
            "e.g. {'traits': {'last_name': 'ใจดี'}}"
        )
    return traits


def _row(session: Session, request_id: str) -> PrivacyRequest:
    row = session.get(PrivacyRequest, request_id)
    if row is None:
        raise NotFound(f"data-subject request '{request_id}' does not exist")
    return row


def _open_row(session: Session, request_id: str) -> PrivacyRequest:
    row = _row(session, request_id)
    if row.status not in _OPEN:
        raise Conflict(f"request '{request_id}' is already {row.status}")
    return row


def _close(
    session: Session,
    row: PrivacyRequest,
    actor: Principal,
    result: dict[str, Any],
    clock: Clock,
) -> None:
    row.status = "completed"
    row.closed_at = clock()
    row.result = result
    _step(session, row, actor, "completed", "", clock)
    session.flush()


def _step(
    session: Session, row: PrivacyRequest, actor: Principal, action: str, note: str, clock: Clock
) -> None:
    session.add(
        RequestStep(
            request_id=row.id,
            at=clock(),
            actor=f"{actor.kind}:{actor.id}",
            action=action,
            note=note,
        )
    )
    access.record_audit(
        session,
        actor=actor,
        action=f"dsar.{action}",
        subject_type="dsar",
        subject_id=row.id,
        detail={"type": row.type, "profile_id": row.profile_id},
        clock=clock,
    )


def _out(session: Session, row: PrivacyRequest, clock: Clock) -> RequestOut:
    steps = session.scalars(
        select(RequestStep).where(RequestStep.request_id == row.id).order_by(RequestStep.id)
    )
    return RequestOut(
        id=row.id,
        type=row.type,
        profile_id=row.profile_id,
        requester=row.requester,
        verification_note=row.verification_note,
        details=row.details,
        status=row.status,
        received_at=row.received_at,
        due_at=row.due_at,
        closed_at=row.closed_at,
        overdue=row.status in _OPEN and row.due_at < clock(),
        result=row.result,
        steps=[RequestStepOut(at=s.at, actor=s.actor, action=s.action, note=s.note) for s in steps],
    )
