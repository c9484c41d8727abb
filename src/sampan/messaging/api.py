"""HTTP routes of messaging: /api/messaging, tracking links under /t, webhooks under /webhooks."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from sampan.access.guards import require
from sampan.access.schemas import Principal
from sampan.consent import service as consent
from sampan.core.errors import NotFound
from sampan.db.engine import Database
from sampan.db.requests import database
from sampan.messaging import service
from sampan.messaging.schemas import (
    CampaignInput,
    CampaignOut,
    CampaignStats,
    ChannelInput,
    ChannelOut,
    DraftPreviewInput,
    MessageOut,
    MessagingRules,
    PreviewInput,
    PreviewOut,
    PushSubscriptionInput,
    ReceiptInput,
    SendInput,
    TemplateInput,
    TemplateOut,
)

router = APIRouter(prefix="/api/messaging", tags=["messaging"])
public = APIRouter(tags=["messaging: public"])
Db = Annotated[Database, Depends(database)]
Reader = Annotated[Principal, require("messaging:read")]
Sender = Annotated[Principal, require("messaging:send")]
Admin = Annotated[Principal, require("channels:manage")]
Receipts = Annotated[Principal, require("messaging:receipts")]
# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@dataclass(frozen=True)
class MessagingContext:
    """What the messaging routes need from the running process."""

    rules: MessagingRules
    catalog: consent.PurposeCatalog
    currency: str


async def _context(request: Request) -> MessagingContext:
    context = request.app.state.messaging
    assert isinstance(context, MessagingContext)
    return context


Ctx = Annotated[MessagingContext, Depends(_context)]


def _wake_sender(request: Request) -> None:
    """Tell this process's sender that messages were queued (committed)."""
    sender = getattr(request.app.state, "sender", None)
    if sender is not None:
        sender.notify()


# -- channels ---------------------------------------------------------------------------------


@router.get("/channels", response_model=list[ChannelOut], summary="List channels")
def list_channels(db: Db, ctx: Ctx, _: Reader) -> list[ChannelOut]:
    """Return every channel with its secrets masked."""
    with db.reading() as session:
        return service.list_channels(session, rules=ctx.rules)


@router.post("/channels", response_model=ChannelOut, status_code=201, summary="Add a channel")
def create_channel(body: ChannelInput, db: Db, ctx: Ctx, _: Admin) -> ChannelOut:
    """Add an SMTP server, LINE OA, SMS gateway, Messenger page, push or webhook channel."""
    with db.transaction() as session:
        return service.create_channel(session, data=body, rules=ctx.rules)


@router.put("/channels/{name}", response_model=ChannelOut, summary="Change a channel")
def update_channel(name: str, body: ChannelInput, db: Db, ctx: Ctx, _: Admin) -> ChannelOut:
    """Replace a channel's configuration; send the mask ``**********`` to keep a secret."""
    with db.transaction() as session:
        return service.update_channel(session, name=name, data=body, rules=ctx.rules)


# -- templates --------------------------------------------------------------------------------


@router.get("/templates", response_model=list[TemplateOut], summary="List templates")
def list_templates(db: Db, _: Reader) -> list[TemplateOut]:
    """Return every template."""
    with db.reading() as session:
        return service.list_templates(session)


@router.post("/templates", response_model=TemplateOut, status_code=201, summary="Add a template")
def create_template(body: TemplateInput, db: Db, ctx: Ctx, _: Sender) -> TemplateOut:
    """Save a template; every string is compiled first and errors name the field."""
    with db.transaction() as session:
        return service.save_template(session, data=body, rules=ctx.rules)


@router.post(
    "/templates/preview", response_model=PreviewOut, summary="Preview unsaved bodies for a person"
)
def preview_draft(body: DraftPreviewInput, db: Db, ctx: Ctx, _: Reader) -> PreviewOut:
    """Render an editor's template bodies for one profile without saving or sending them.

    The bodies are checked as a save checks them, so a syntax error anywhere names its field.
    """
    with db.reading() as session:
        return service.preview_draft(session, data=body, currency=ctx.currency, rules=ctx.rules)


@router.get("/templates/{template}", response_model=TemplateOut, summary="Get a template")
def get_template(template: str, db: Db, _: Reader) -> TemplateOut:
    """Return a template by id or name."""
    with db.reading() as session:
        return service.get_template(session, template=template)


@router.put("/templates/{template}", response_model=TemplateOut, summary="Replace a template")
def update_template(template: str, body: TemplateInput, db: Db, ctx: Ctx, _: Sender) -> TemplateOut:
    """Replace a template's name, category and bodies."""
    with db.transaction() as session:
        found = service.get_template(session, template=template)
        return service.save_template(session, data=body, rules=ctx.rules, template_id=found.id)


@router.post(
    "/templates/{template}/preview", response_model=PreviewOut, summary="Preview for a person"
)
def preview(template: str, body: PreviewInput, db: Db, ctx: Ctx, _: Reader) -> PreviewOut:
    """Render a template for one profile without sending it."""
    with db.reading() as session:
        return service.preview(
            session, template=template, data=body, currency=ctx.currency, rules=ctx.rules
        )


# -- messages ---------------------------------------------------------------------------------


@router.post("/messages", response_model=MessageOut, summary="Send a message")
def send(body: SendInput, request: Request, db: Db, ctx: Ctx, _: Sender) -> MessageOut:
    """Queue one message; the answer says which channel was chosen, or why none could be."""
    with db.transaction() as session:
        message = service.send(
            session, data=body, rules=ctx.rules, catalog=ctx.catalog, currency=ctx.currency
        )
    _wake_sender(request)
    return message


@router.get("/messages", response_model=list[MessageOut], summary="List messages")
def list_messages(
    db: Db,
    _: Reader,
    profile_id: str | None = None,
    status: str | None = None,
    campaign_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MessageOut]:
    """Return the newest messages, filtered by profile, status or campaign."""
    with db.reading() as session:
        return service.list_messages(
            session, profile_id=profile_id, status=status, campaign_id=campaign_id, limit=limit
        )


@router.get("/messages/{message_id}", response_model=MessageOut, summary="Get a message")
def get_message(message_id: str, db: Db, _: Reader) -> MessageOut:
    """Return one message and where it stands."""
    with db.reading() as session:
        return service.get_message(session, message_id=message_id)


@router.post(
    "/messages/{message_id}/retry", response_model=MessageOut, summary="Retry a dead letter"
)
def retry(message_id: str, request: Request, db: Db, ctx: Ctx, _: Sender) -> MessageOut:
    """Queue a failed message again."""
    with db.transaction() as session:
        message = service.retry_message(session, message_id=message_id, rules=ctx.rules)
    _wake_sender(request)
    return message


@router.post("/receipts", response_model=MessageOut, summary="Report delivery or bounce")
def receipt(body: ReceiptInput, db: Db, ctx: Ctx, _: Receipts) -> MessageOut:
    """Apply a provider's delivery report or bounce, found by its provider message id."""
    with db.transaction() as session:
        return service.record_receipt(session, data=body, rules=ctx.rules)


@router.post("/push-subscriptions", status_code=201, summary="Keep a Web Push subscription")
def subscribe(body: PushSubscriptionInput, db: Db, ctx: Ctx, _: Sender) -> dict[str, Any]:
    """Store a browser's push subscription for a profile."""
    with db.transaction() as session:
        return service.subscribe_push(session, data=body, rules=ctx.rules)


# -- campaigns --------------------------------------------------------------------------------


@router.get("/campaigns", response_model=list[CampaignOut], summary="List campaigns")
def list_campaigns(db: Db, _: Reader) -> list[CampaignOut]:
    """Return every campaign, newest first."""
    with db.reading() as session:
        return service.list_campaigns(session)


@router.post("/campaigns", response_model=CampaignOut, status_code=201, summary="Add a campaign")
def create_campaign(body: CampaignInput, db: Db, ctx: Ctx, _: Sender) -> CampaignOut:
    """Save a campaign: a draft, or scheduled when ``scheduled_at`` is given."""
    with db.transaction() as session:
        return service.save_campaign(session, data=body, rules=ctx.rules)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="Get a campaign")
def get_campaign(campaign_id: str, db: Db, _: Reader) -> CampaignOut:
    """Return one campaign."""
    with db.reading() as session:
        return service.get_campaign(session, campaign_id=campaign_id)


@router.put("/campaigns/{campaign_id}", response_model=CampaignOut, summary="Change a campaign")
def update_campaign(
    campaign_id: str, body: CampaignInput, db: Db, ctx: Ctx, _: Sender
) -> CampaignOut:
    """Change a campaign that has not been launched."""
    with db.transaction() as session:
        return service.save_campaign(session, data=body, rules=ctx.rules, campaign_id=campaign_id)


@router.post(
    "/campaigns/{campaign_id}/launch", response_model=CampaignOut, summary="Send a campaign now"
)
def launch(campaign_id: str, request: Request, db: Db, ctx: Ctx, _: Sender) -> CampaignOut:
    """Assign arms and queue every message now."""
    with db.transaction() as session:
        campaign = service.launch_campaign(
            session,
            campaign_id=campaign_id,
            rules=ctx.rules,
            catalog=ctx.catalog,
            currency=ctx.currency,
        )
    _wake_sender(request)
    return campaign


@router.post(
    "/campaigns/{campaign_id}/cancel", response_model=CampaignOut, summary="Cancel a campaign"
)
def cancel(campaign_id: str, db: Db, ctx: Ctx, _: Sender) -> CampaignOut:
    """Cancel a campaign; its queued messages are not sent."""
    with db.transaction() as session:
        return service.cancel_campaign(session, campaign_id=campaign_id, rules=ctx.rules)


@router.get(
    "/campaigns/{campaign_id}/stats", response_model=CampaignStats, summary="Campaign results"
)
def stats(campaign_id: str, db: Db, _: Reader) -> CampaignStats:
    """Per variant and control: targeted, sent, delivered, opened, clicked, converted, uplift."""
    with db.reading() as session:
        return service.campaign_stats(session, campaign_id=campaign_id)


# -- public: tracking links and provider webhooks ---------------------------------------------


@public.get("/t/o/{token}.gif", include_in_schema=False)
def opened(token: str, db: Db, ctx: Ctx) -> Response:
    """Record an e-mail open; always answer the pixel so mail clients show nothing odd."""
    try:
        with db.transaction() as session:
            service.record_open(session, token=token, rules=ctx.rules)
    except NotFound:
        pass
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@public.get("/t/c/{token}", include_in_schema=False)
def clicked(token: str, db: Db, ctx: Ctx) -> Response:
    """Record a click and send the customer on to the link's target."""
    with db.transaction() as session:
        url = service.record_click(session, token=token, rules=ctx.rules)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


@public.post("/webhooks/line/{channel}", summary="LINE Messaging API webhook")
async def line_webhook(
    channel: str,
    request: Request,
    db: Db,
    ctx: Ctx,
    x_line_signature: Annotated[str | None, Header()] = None,
) -> dict[str, int]:
    """Verify X-Line-Signature and record follow, unfollow, message and postback events."""
    body = await request.body()

    def receive() -> int:
        with db.transaction() as session:
            return service.receive_line(
                session, channel=channel, body=body, signature=x_line_signature, rules=ctx.rules
            )

    return {"recorded": await run_in_threadpool(receive)}


@public.get("/webhooks/facebook/{channel}", summary="Messenger webhook handshake")
def facebook_handshake(
    channel: str,
    db: Db,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Answer Meta's subscription check with the challenge."""
    with db.reading() as session:
        answer = service.verify_facebook_subscription(
            session, channel=channel, mode=mode, token=token, challenge=challenge
        )
    return PlainTextResponse(answer)


@public.post("/webhooks/facebook/{channel}", summary="Messenger webhook")
async def facebook_webhook(
    channel: str,
    request: Request,
    db: Db,
    ctx: Ctx,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> dict[str, int]:
    """Verify X-Hub-Signature-256 and record messages and postbacks."""
    body = await request.body()

    def receive() -> int:
        with db.transaction() as session:
            return service.receive_facebook(
                session, channel=channel, body=body, signature=x_hub_signature_256, rules=ctx.rules
            )

    return {"recorded": await run_in_threadpool(receive)}
