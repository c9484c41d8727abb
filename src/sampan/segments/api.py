"""HTTP routes of segments under /api/segments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from sampan.access.guards import audit_log, require
from sampan.access.schemas import Principal
from sampan.db.engine import Database
from sampan.db.requests import database
from sampan.segments import service
from sampan.segments.compiler import CompileContext
from sampan.segments.schemas import (
    EvaluationReport,
    Insights,
    MemberPage,
    Preview,
    PreviewInput,
    SegmentInput,
    SegmentOut,
    SizePoint,
    Vocabulary,
)

router = APIRouter(prefix="/api/segments", tags=["segments"])
Db = Annotated[Database, Depends(database)]
Reader = Annotated[Principal, require("segments:read")]
Writer = Annotated[Principal, require("segments:write")]


async def _context(request: Request) -> CompileContext:
    make: Callable[[], CompileContext] = request.app.state.segment_context
    return make()


Ctx = Annotated[CompileContext, Depends(_context)]


@router.get("/schema", summary="The condition language's JSON Schema")
def schema(_: Reader) -> dict[str, Any]:
    """Return the JSON Schema a segment condition is validated against."""
    return service.CONDITION_SCHEMA


@router.get("/vocabulary", response_model=Vocabulary, summary="Names a condition can use")
def get_vocabulary(db: Db, ctx: Ctx, _: Reader) -> Vocabulary:
    """Return computed traits, labels, identifier types, purposes and the events seen here."""
    with db.reading() as session:
        return service.vocabulary(session, context=ctx)


@router.get("/insights", response_model=Insights, summary="RFM and lifecycle views")
def get_insights(db: Db, ctx: Ctx, _: Reader) -> Insights:
    """Return the RFM groups and grid, lifecycle stages and inactivity buckets with sizes."""
    with db.reading() as session:
        return service.insights(session, context=ctx)


@router.post("/preview", response_model=Preview, summary="Preview a condition")
def preview(body: PreviewInput, db: Db, ctx: Ctx, _: Reader) -> Preview:
    """Count who a condition selects now, with a sample, without saving it."""
    with db.reading() as session:
        return service.preview(session, condition=body.condition, context=ctx, sample=body.sample)


@router.get("", response_model=list[SegmentOut], summary="List segments")
def list_segments(
    db: Db,
    _: Reader,
    profile_id: Annotated[
        str | None,
        Query(max_length=40, description="only the segments this person is a member of now"),
    ] = None,
) -> list[SegmentOut]:
    """Return every segment with its size, or a person's segments."""
    with db.reading() as session:
        return service.list_segments(session, profile_id=profile_id)


@router.post("", response_model=SegmentOut, status_code=201, summary="Create a segment")
def create(body: SegmentInput, db: Db, ctx: Ctx, _: Writer) -> SegmentOut:
    """Save a segment; its members are computed before the answer."""
    with db.transaction() as session:
        return service.create_segment(session, segment=body, context=ctx)


@router.get("/{segment_id}", response_model=SegmentOut, summary="Get a segment")
def get(segment_id: str, db: Db, _: Reader) -> SegmentOut:
    """Return a segment with its size."""
    with db.reading() as session:
        return service.get_segment(session, segment_id=segment_id)


@router.put("/{segment_id}", response_model=SegmentOut, summary="Save a new version")
def update(segment_id: str, body: SegmentInput, db: Db, ctx: Ctx, _: Writer) -> SegmentOut:
    """Replace the definition (a new version); members follow at once."""
    with db.transaction() as session:
        return service.update_segment(session, segment_id=segment_id, segment=body, context=ctx)


@router.delete("/{segment_id}", status_code=204, summary="Delete a segment")
def delete(segment_id: str, db: Db, _: Writer) -> None:
    """Delete a segment no other segment refers to."""
    with db.transaction() as session:
        service.delete_segment(session, segment_id=segment_id)


@router.get("/{segment_id}/members", response_model=MemberPage, summary="List members")
def members(
    segment_id: str,
    db: Db,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> MemberPage:
    """Return a page of members; pass ``next_cursor`` back for the next page."""
    with db.reading() as session:
        return service.list_members(session, segment_id=segment_id, limit=limit, cursor=cursor)


@router.get(
    "/{segment_id}/members.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Export members as CSV",
)
def members_csv(
    segment_id: str, db: Db, actor: Reader, audit: Annotated[Any, Depends(audit_log)]
) -> StreamingResponse:
    """Stream every member as CSV (UTF-8 with a byte-order mark for Excel), audited."""
    with db.reading() as session:
        service.get_segment(session, segment_id=segment_id)
    audit.record(
        actor=actor, action="segment.exported", subject_type="segment", subject_id=segment_id
    )
    session = db.read_sessions()
    mask = not actor.can("pii:read")

    def lines() -> Any:
        try:
            yield from service.members_csv(session, segment_id=segment_id, mask=mask)
        finally:
            session.close()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{segment_id}.csv"'},
    )


@router.get("/{segment_id}/sizes", response_model=list[SizePoint], summary="Size history")
def sizes(segment_id: str, db: Db, _: Reader) -> list[SizePoint]:
    """Return the segment's size over time, sampled at every scheduled evaluation."""
    with db.reading() as session:
        return service.size_history(session, segment_id=segment_id)


@router.post("/evaluate", response_model=EvaluationReport, summary="Re-evaluate all now")
def evaluate(db: Db, ctx: Ctx, _: Writer) -> EvaluationReport:
    """Recompute every segment now instead of waiting for the schedule."""
    with db.transaction() as session:
        return service.evaluate_scheduled(session, context=ctx, everything=True)
