"""HTTP routes of privacy under /api/privacy, and the customer's preference page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sampan.access.guards import require
from sampan.access.schemas import Principal
from sampan.consent import service
from sampan.consent.schemas import (
    BlockChange,
    ConsentRecordOut,
    ConsentState,
    ConsentUpdate,
    ContactCheck,
    ErasureReport,
    ImportReport,
    PreferenceLink,
    RequestCreate,
    RequestOut,
    RequestPage,
    RequestTransition,
    RetentionReport,
    RetentionRunOut,
    SuppressionCreate,
    SuppressionResult,
)
from sampan.core.errors import Forbidden, InvalidInput, NotFound
from sampan.core.personal_data import PersonalDataRegistry
from sampan.db.engine import Database
from sampan.db.requests import database
from sampan.identity.service import IdentityRules
from sampan.settings import ConsentPurpose, Settings

router = APIRouter(prefix="/api/privacy", tags=["privacy"])
pages = APIRouter(prefix="/preferences", tags=["preferences"])
Db = Annotated[Database, Depends(database)]
_ZIP: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "A ZIP of JSON and CSV files"}
}
_MAX_CSV_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class PrivacyContext:
    """What the privacy routes need from the running process."""

    settings: Settings
    catalog: service.PurposeCatalog
    registry: PersonalDataRegistry
    rules: IdentityRules


async def _context(request: Request) -> PrivacyContext:
    context = request.app.state.privacy
    assert isinstance(context, PrivacyContext)
    return context


Ctx = Annotated[PrivacyContext, Depends(_context)]


@router.get("/purposes", response_model=list[ConsentPurpose], summary="List consent purposes")
def purposes(ctx: Ctx, _: Annotated[Principal, require("consent:read")]) -> list[ConsentPurpose]:
    """Return the purposes consent is asked for, with their Thai and English titles."""
    return list(ctx.settings.consent_purposes)


@router.get("/profiles/{profile_id}/consents", response_model=ConsentState, summary="Consent state")
def consents(
    profile_id: str, db: Db, ctx: Ctx, _: Annotated[Principal, require("consent:read")]
) -> ConsentState:
    """Return the current consent per purpose and channel, blocks and the full history."""
    with db.reading() as session:
        return service.consent_state(session, profile_id=profile_id, catalog=ctx.catalog)


@router.post(
    "/profiles/{profile_id}/consents",
    response_model=list[ConsentRecordOut],
    status_code=201,
    summary="Record consents",
)
def record(
    profile_id: str,
    body: ConsentUpdate,
    db: Db,
    ctx: Ctx,
    actor: Annotated[Principal, require("consent:write")],
) -> list[ConsentRecordOut]:
    """Append consents given or withdrawn; the history is never rewritten."""
    with db.transaction() as session:
        return service.record_consents(
            session, profile_id=profile_id, update=body, actor=actor, catalog=ctx.catalog
        )


@router.get(
    "/profiles/{profile_id}/can-contact", response_model=ContactCheck, summary="Can we contact?"
)
def can_contact(
    profile_id: str,
    db: Db,
    ctx: Ctx,
    _: Annotated[Principal, require("consent:read")],
    purpose: Annotated[str, Query(max_length=40)] = "marketing",
    channel: Annotated[str | None, Query(max_length=20)] = None,
) -> ContactCheck:
    """Answer whether the person may be contacted for a purpose on a channel, and why."""
    with db.reading() as session:
        return service.can_contact(
            session, profile_id=profile_id, purpose=purpose, channel=channel, catalog=ctx.catalog
        )


@router.post(
    "/profiles/{profile_id}/preference-link",
    response_model=PreferenceLink,
    summary="Make a preference link",
)
def make_link(
    profile_id: str, db: Db, ctx: Ctx, _: Annotated[Principal, require("consent:write")]
) -> PreferenceLink:
    """Return a signed, expiring link to the person's preference page."""
    with db.transaction() as session:
        return service.preference_link(
            session,
            profile_id=profile_id,
            public_url=ctx.settings.public_url,
            valid_days=ctx.settings.preference_link_days,
        )


@router.put(
    "/profiles/{profile_id}/blocks/{kind}", response_model=list[str], summary="Restrict or object"
)
def block(
    profile_id: str,
    kind: Literal["restricted", "objected"],
    body: BlockChange,
    db: Db,
    actor: Annotated[Principal, require("privacy:requests")],
) -> list[str]:
    """Put a restriction of processing or an objection in force, or lift it."""
    with db.transaction() as session:
        return service.set_block(
            session,
            profile_id=profile_id,
            kind=kind,
            active=body.active,
            actor=actor,
            request_id=body.request_id,
        )


@router.get(
    "/profiles/{profile_id}/export",
    response_class=Response,
    responses=_ZIP,
    summary="Export a person's data",
)
def export(
    profile_id: str,
    db: Db,
    ctx: Ctx,
    actor: Annotated[Principal, require("privacy:export")],
) -> Response:
    """Download everything Sampan holds about the person as a ZIP of JSON and CSV."""
    with db.transaction() as session:
        archive = service.export_person(
            session, registry=ctx.registry, profile_id=profile_id, actor=actor
        )
    return _zip_response(archive, profile_id)


@router.post("/profiles/{profile_id}/erase", response_model=ErasureReport, summary="Erase a person")
def erase(
    profile_id: str,
    db: Db,
    ctx: Ctx,
    actor: Annotated[Principal, require("privacy:erase")],
) -> ErasureReport:
    """Erase the person's data everywhere; their identifiers stay suppressed as salted hashes."""
    with db.transaction() as session:
        report = service.erase_person(
            session, registry=ctx.registry, profile_id=profile_id, actor=actor
        )
    db.flush_log()
    return report


@router.post(
    "/consents/import",
    response_model=ImportReport,
    status_code=202,
    summary="Import consents from CSV",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_csv(
    request: Request, db: Db, ctx: Ctx, _: Annotated[Principal, require("consent:write")]
) -> ImportReport:
    """Log one ``Consent Updated`` event per row; a file with a bad row stores nothing."""
    raw = await request.body()
    if len(raw) > _MAX_CSV_BYTES:
        raise InvalidInput(f"a CSV import is at most {_MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV must be UTF-8 encoded") from None
    with db.transaction() as session:
        report = service.import_consents(session, text=text, catalog=ctx.catalog)
    request.app.state.pipeline.notify()
    return report


@router.post("/suppressions", response_model=SuppressionResult, summary="Suppress an identifier")
def add_suppression(
    body: SuppressionCreate,
    db: Db,
    ctx: Ctx,
    _: Annotated[Principal, require("consent:write")],
) -> SuppressionResult:
    """Add an identifier to the do-not-contact list; only a salted hash of it is stored."""
    with db.transaction() as session:
        added = service.suppress_identifier(
            session, id_type=body.type, value=body.value, reason=body.reason, rules=ctx.rules
        )
    return SuppressionResult(added=added)


@router.post("/requests", response_model=RequestOut, status_code=201, summary="Open a DSAR")
def open_request(
    body: RequestCreate,
    db: Db,
    ctx: Ctx,
    actor: Annotated[Principal, require("privacy:requests")],
) -> RequestOut:
    """Record a data-subject request; it is due within the PDPA's 30 days."""
    with db.transaction() as session:
        return service.open_request(
            session, request=body, actor=actor, due_days=ctx.settings.dsar_due_days
        )


@router.get("/requests", response_model=RequestPage, summary="List DSARs")
def list_requests(
    db: Db,
    _: Annotated[Principal, require("privacy:requests")],
    status: Annotated[
        Literal["open", "in_progress", "completed", "rejected"] | None, Query()
    ] = None,
    overdue: bool = False,
    profile_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RequestPage:
    """List requests, soonest due first; ``overdue=true`` lists the open ones past due."""
    with db.reading() as session:
        return service.list_requests(
            session,
            status=status,
            overdue=overdue,
            profile_id=profile_id,
            limit=limit,
            offset=offset,
        )


@router.get("/requests/{request_id}", response_model=RequestOut, summary="Get a DSAR")
def get_request(
    request_id: str, db: Db, _: Annotated[Principal, require("privacy:requests")]
) -> RequestOut:
    """Return a request with its trail."""
    with db.reading() as session:
        return service.get_request(session, request_id=request_id)


@router.post("/requests/{request_id}/status", response_model=RequestOut, summary="Move a DSAR")
def transition(
    request_id: str,
    body: RequestTransition,
    db: Db,
    actor: Annotated[Principal, require("privacy:requests")],
) -> RequestOut:
    """Start work on a request, or reject it with the reason."""
    with db.transaction() as session:
        return service.transition_request(session, request_id=request_id, change=body, actor=actor)


@router.post("/requests/{request_id}/fulfil", response_model=RequestOut, summary="Fulfil a DSAR")
def fulfil(
    request_id: str,
    db: Db,
    ctx: Ctx,
    actor: Annotated[Principal, require("privacy:requests")],
) -> RequestOut:
    """Carry out an erasure, restriction, objection or rectification and close the request."""
    with db.transaction() as session:
        found = service.get_request(session, request_id=request_id)
        if found.type == "erasure" and not actor.can("privacy:erase"):
            raise Forbidden("fulfilling an erasure request needs the 'privacy:erase' permission")
        done = service.fulfil_request(
            session,
            registry=ctx.registry,
            request_id=request_id,
            actor=actor,
            currency=ctx.settings.default_currency,
        )
    db.flush_log()
    return done


@router.post(
    "/requests/{request_id}/export",
    response_class=Response,
    responses=_ZIP,
    summary="Fulfil an access request",
)
def export_request(
    request_id: str,
    db: Db,
    ctx: Ctx,
    actor: Annotated[Principal, require("privacy:export")],
) -> Response:
    """Build the access request's export, close the request and return the ZIP."""
    with db.transaction() as session:
        archive = service.export_request(
            session, registry=ctx.registry, request_id=request_id, actor=actor
        )
    return _zip_response(archive, request_id)


@router.get("/retention", response_model=RetentionReport, summary="Retention rules and runs")
def retention(
    db: Db, ctx: Ctx, _: Annotated[Principal, require("retention:manage")]
) -> RetentionReport:
    """Return the period kept per class of data and what the latest runs removed."""
    with db.reading() as session:
        return service.retention_report(
            session, registry=ctx.registry, days=ctx.settings.retention_days
        )


@router.post("/retention/run", response_model=RetentionRunOut, summary="Enforce retention now")
def run_retention(
    db: Db, ctx: Ctx, actor: Annotated[Principal, require("retention:manage")]
) -> RetentionRunOut:
    """Remove what outlived its retention period now, instead of waiting for the schedule."""
    with db.transaction() as session:
        run = service.enforce_retention(
            session, registry=ctx.registry, days=ctx.settings.retention_days, actor=actor
        )
    db.flush_log()
    return run


@pages.get("/{token}", response_class=HTMLResponse, summary="Preference page")
def preference_page(
    token: str,
    db: Db,
    ctx: Ctx,
    lang: Annotated[Literal["th", "en"] | None, Query()] = None,
) -> HTMLResponse:
    """Show the customer every purpose and channel with its current choice."""
    with db.reading() as session:
        try:
            profile_id = _profile(session, token, ctx)
        except NotFound as exc:
            return _gone(exc, lang)
        language = lang or service.person_language(session, profile_id=profile_id)
        return HTMLResponse(
            service.render_page(
                session, profile_id=profile_id, token=token, catalog=ctx.catalog, language=language
            )
        )


@pages.post("/{token}", response_class=HTMLResponse, summary="Save preferences")
def save_preferences(
    token: str,
    db: Db,
    ctx: Ctx,
    slot: Annotated[list[str] | None, Form()] = None,
    lang: Annotated[Literal["th", "en"] | None, Query()] = None,
) -> HTMLResponse:
    """Record what the customer switched on or off."""
    chosen = {(value.partition(":")[0], value.partition(":")[2]) for value in slot or []}
    with db.transaction() as session:
        try:
            profile_id = _profile(session, token, ctx)
        except NotFound as exc:
            return _gone(exc, lang)
        language = lang or service.person_language(session, profile_id=profile_id)
        saved = service.save_choices(
            session,
            profile_id=profile_id,
            chosen=chosen,
            catalog=ctx.catalog,
            language=language,
        )
        return HTMLResponse(
            service.render_page(
                session,
                profile_id=profile_id,
                token=token,
                catalog=ctx.catalog,
                language=language,
                saved=saved,
            )
        )


@pages.post("/{token}/unsubscribe", response_class=HTMLResponse, summary="One-click unsubscribe")
def one_click_unsubscribe(
    token: str,
    db: Db,
    ctx: Ctx,
    lang: Annotated[Literal["th", "en"] | None, Query()] = None,
) -> HTMLResponse:
    """Withdraw marketing on every channel (RFC 8058 ``List-Unsubscribe-Post`` target)."""
    with db.transaction() as session:
        try:
            profile_id = _profile(session, token, ctx)
        except NotFound as exc:
            return _gone(exc, lang)
        service.unsubscribe(session, profile_id=profile_id, catalog=ctx.catalog)
        thai = (lang or service.person_language(session, profile_id=profile_id)) != "en"
    title = "ยกเลิกการรับข่าวสารแล้ว" if thai else "You are unsubscribed"
    body = (
        "เราจะไม่ส่งข่าวสารและโปรโมชันถึงคุณอีก คุณเปลี่ยนใจได้ทุกเมื่อจากลิงก์เดิม"
        if thai
        else "You will get no more marketing from us. You can change your mind with the same link."
    )
    return HTMLResponse(
        service.render_message(title=title, body=body, language="th" if thai else "en")
    )


def _profile(session: Session, token: str, ctx: PrivacyContext) -> str:
    return service.profile_of_token(
        session, token=token, valid_days=ctx.settings.preference_link_days
    )


def _gone(exc: NotFound, lang: str | None) -> HTMLResponse:
    thai = lang != "en"
    title = "ลิงก์นี้ใช้ไม่ได้" if thai else "This link cannot be used"
    body = (
        f"ลิงก์หมดอายุหรือไม่ถูกต้อง โปรดใช้ลิงก์จากข้อความล่าสุดของเรา ({exc.message})" if thai else exc.message
    )
    return HTMLResponse(
        service.render_message(title=title, body=body, language=lang or "th"), status_code=404
    )


def _zip_response(archive: bytes, name: str) -> Response:
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="sampan-{name}.zip"'},
    )
