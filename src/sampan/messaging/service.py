"""Messaging's facade: channels, templates, sending, tracking, webhooks and campaigns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from sampan.core.ids import new_id
from sampan.core.personal_data import DataSubject, Rows
from sampan.db.rows import affected_rows
from sampan.messaging import campaigns, tracking
from sampan.messaging.channels import facebook, line, registry, sms
from sampan.messaging.channels.base import ContentError, InboundEvent
from sampan.messaging.dispatch import SOURCE_KIND, Dispatcher
from sampan.messaging.models import Channel, Message, PushSubscription, Template
from sampan.messaging.outbox import Recipients, enqueue, template_variables
from sampan.messaging.schemas import (
    CampaignOut,
    ChannelInput,
    ChannelOut,
    DraftPreviewInput,
    MessageOut,
    MessagingRules,
    Outgoing,
    PreviewInput,
    PreviewOut,
    PushSubscriptionInput,
    ReceiptInput,
    SendInput,
    TemplateInput,
    TemplateOut,
)
from sampan.messaging.templates import (
    LANGUAGES,
    RenderError,
    check_body,
    render_body,
    wrap_links,
)
from sampan.settings import Settings

__all__ = [
    "Dispatcher",
    "MessagingRules",
    "Outgoing",
    "cancel_campaign",
    "campaign_stats",
    "create_channel",
    "due_campaigns",
    "enqueue",
    "erase_personal_data",
    "export_personal_data",
    "get_campaign",
    "get_message",
    "get_template",
    "launch_campaign",
    "list_campaigns",
    "list_channels",
    "list_messages",
    "list_templates",
    "preview",
    "preview_draft",
    "purge_messages",
    "receive_facebook",
    "receive_line",
    "record_click",
    "record_open",
    "record_receipt",
    "retry_message",
    "rules_from_settings",
    "status_counts",
    "save_campaign",
    "save_template",
    "send",
    "subscribe_push",
    "update_channel",
    "verify_facebook_subscription",
]

MASK = "**********"
# Length of a click-tracking token for a message id of 28 characters (what previews assume).
TRACKING_TOKEN_LENGTH = 74
cancel_campaign = campaigns.cancel_campaign
campaign_stats = campaigns.campaign_stats
due_campaigns = campaigns.due_campaigns
get_campaign = campaigns.get_campaign
list_campaigns = campaigns.list_campaigns
save_campaign = campaigns.save_campaign
record_open = tracking.record_open
record_click = tracking.record_click


def rules_from_settings(settings: Settings, clock: Clock = system_clock) -> MessagingRules:
    """Return the sending rules the settings describe."""
    return MessagingRules(
        public_url=settings.public_url,
        timezone=settings.timezone,
        quiet_start=settings.quiet_hours.start,
        quiet_end=settings.quiet_hours.end,
        caps=dict(settings.frequency_caps),
        preference_link_days=settings.preference_link_days,
        max_attempts=settings.message_max_attempts,
        retry_base_seconds=settings.message_retry_base_seconds,
        retry_max_seconds=settings.message_retry_max_seconds,
        lease_seconds=settings.message_lease_seconds,
        clock=clock,
    )


# -- channels ---------------------------------------------------------------------------------


def create_channel(session: Session, *, data: ChannelInput, rules: MessagingRules) -> ChannelOut:
    """Add a provider account; its configuration is checked against the kind's rules."""
    config = _checked_config(data.kind, data.config)
    if session.scalar(select(Channel.id).where(Channel.name == data.name)) is not None:
        raise Conflict(f"a channel named '{data.name}' exists")
    now = rules.clock()
    source_kind = SOURCE_KIND.get(data.kind, "server")
    source = collect.create_source(session, name=f"messaging: {data.name}", kind=source_kind)
    row = Channel(
        id=new_id("chn"),
        name=data.name,
        kind=data.kind,
        config=config,
        enabled=data.enabled,
        rate_per_second=data.rate_per_second,
        source_id=source.id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _channel_out(row, rules)


def update_channel(
    session: Session, *, name: str, data: ChannelInput, rules: MessagingRules
) -> ChannelOut:
    """Change a channel; a secret sent back as the mask (``**********``) keeps its value."""
    row = _channel(session, name)
    if data.kind != row.kind:
        raise InvalidInput(f"kind cannot change ({row.kind} → {data.kind}); add a new channel")
    row.config = _checked_config(row.kind, _keep_masked(data.config, row.config))
    row.enabled = data.enabled
    row.rate_per_second = data.rate_per_second
    row.updated_at = rules.clock()
    return _channel_out(row, rules)


def list_channels(session: Session, *, rules: MessagingRules) -> list[ChannelOut]:
    """Return every channel, secrets masked."""
    return [_channel_out(r, rules) for r in session.scalars(select(Channel).order_by(Channel.name))]


def _checked_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a configuration and return it as given (secrets included) for storage."""
    try:
        registry.parse_config(kind, config)
    except registry.ConfigError as exc:
        raise InvalidInput(str(exc)) from None
    return dict(config)


def _keep_masked(new: Any, old: Any) -> Any:
    """Put stored secrets back where a client sent the mask it was shown."""
    if new == MASK:
        return old
    if isinstance(new, Mapping) and isinstance(old, Mapping):
        return {key: _keep_masked(value, old.get(key)) for key, value in new.items()}
    return new


def _channel(session: Session, name: str) -> Channel:
    row = session.scalar(select(Channel).where(Channel.name == name))
    if row is None:
        raise NotFound(f"channel '{name}' does not exist")
    return row


def _channel_out(row: Channel, rules: MessagingRules) -> ChannelOut:
    hook = None
    if row.kind in ("line", "facebook"):
        hook = f"{rules.public_url.rstrip('/')}/webhooks/{row.kind}/{row.name}"
    return ChannelOut(
        id=row.id,
        name=row.name,
        kind=row.kind,
        # Secret fields come out of the validated model as the mask.
        config=registry.parse_config(row.kind, row.config).model_dump(mode="json"),
        enabled=row.enabled,
        rate_per_second=row.rate_per_second,
        webhook_url=hook,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# -- templates --------------------------------------------------------------------------------


def save_template(
    session: Session, *, data: TemplateInput, rules: MessagingRules, template_id: str | None = None
) -> TemplateOut:
    """Create or replace a template after compiling every string of every body."""
    _check_bodies(data.bodies)
    now = rules.clock()
    clash = session.scalar(select(Template.id).where(Template.name == data.name))
    if template_id is None:
        if clash is not None:
            raise Conflict(f"a template named '{data.name}' exists")
        row = Template(id=new_id("tpl"), created_at=now)
        session.add(row)
    else:
        row = _template(session, template_id)
        if clash is not None and clash != row.id:
            raise Conflict(f"a template named '{data.name}' exists")
    row.name, row.category, row.bodies, row.updated_at = data.name, data.category, data.bodies, now
    session.flush()
    return _template_out(row)


def _check_bodies(bodies: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse unknown kinds and languages, and strings that do not compile, naming the field."""
    for kind, languages in bodies.items():
        if kind not in registry.KINDS:
            raise InvalidInput(f"bodies.{kind}: kind must be one of {', '.join(registry.KINDS)}")
        if not languages:
            raise InvalidInput(
                f"bodies.{kind}: give at least one language ({', '.join(LANGUAGES)})"
            )
        for language, body in languages.items():
            if language not in LANGUAGES:
                raise InvalidInput(f"bodies.{kind}.{language}: language must be th or en")
            try:
                check_body(body, f"bodies.{kind}.{language}")
            except RenderError as exc:
                raise InvalidInput(str(exc)) from None
    if not bodies:
        raise InvalidInput("bodies: give the content of at least one channel kind")


def get_template(session: Session, *, template: str) -> TemplateOut:
    """Return a template by id or name."""
    return _template_out(_template(session, template))


def list_templates(session: Session) -> list[TemplateOut]:
    """Return every template by name."""
    return [_template_out(r) for r in session.scalars(select(Template).order_by(Template.name))]


def _template(session: Session, template: str) -> Template:
    row = session.scalar(
        select(Template).where((Template.id == template) | (Template.name == template))
    )
    if row is None:
        raise NotFound(f"template '{template}' does not exist")
    return row


def _template_out(row: Template) -> TemplateOut:
    return TemplateOut(
        id=row.id,
        name=row.name,
        category=row.category,
        bodies=row.bodies,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def preview(
    session: Session, *, template: str, data: PreviewInput, currency: str, rules: MessagingRules
) -> PreviewOut:
    """Render a template for a person without sending; errors name the broken field."""
    row = _template(session, template)
    return _preview(
        session, f"template '{row.name}'", row.bodies, data=data, currency=currency, rules=rules
    )


def preview_draft(
    session: Session, *, data: DraftPreviewInput, currency: str, rules: MessagingRules
) -> PreviewOut:
    """Render bodies that are not saved yet (an editor's), checked as a save checks them."""
    _check_bodies(data.bodies)
    return _preview(session, "the template", data.bodies, data=data, currency=currency, rules=rules)


def _preview(
    session: Session,
    label: str,
    all_bodies: Mapping[str, Any],
    *,
    data: PreviewInput,
    currency: str,
    rules: MessagingRules,
) -> PreviewOut:
    bodies = all_bodies.get(data.kind)
    if not bodies:
        raise InvalidInput(f"{label} has no content for {data.kind}")
    people = Recipients(session, [data.profile_id], currency)
    person = people.people.get(data.profile_id)
    if person is None:
        raise NotFound(f"profile '{data.profile_id}' does not exist")
    wanted = data.language or ("en" if (person.locale or "").lower().startswith("en") else "th")
    language = wanted if wanted in bodies else next(iter(bodies))
    variables = template_variables(
        people.facts.get(person.profile_id),
        event=data.event,
        coupon_code=data.coupon_code,
        extra=data.variables,
    )
    variables.update(message={"id": "preview"}, unsubscribe_url="#unsubscribe")
    config = session.scalar(
        select(Channel.config).where(Channel.kind == data.kind, Channel.enabled).limit(1)
    )
    try:
        content = render_body(bodies[language], variables, f"bodies.{data.kind}.{language}")
        if data.kind != "webhook":
            # Links as they will go out: a tracking link is longer, which counts for SMS.
            sample = f"{rules.public_url.rstrip('/')}/t/c/{'x' * TRACKING_TOKEN_LENGTH}"
            content, _ = wrap_links(content, lambda _index: sample)
        registry.check_content(data.kind, content, config or {})
    except (RenderError, ContentError) as exc:
        raise InvalidInput(str(exc)) from None
    out = PreviewOut(kind=data.kind, language=language, content=content)
    if data.kind == "sms":
        segments = sms.sms_segments(str(content.get("text", "")))
        out.sms_parts, out.sms_encoding = segments.parts, segments.encoding
        out.sms_units = segments.units
    return out


# -- sending ----------------------------------------------------------------------------------


def send(
    session: Session,
    *,
    data: SendInput,
    rules: MessagingRules,
    catalog: consent.PurposeCatalog,
    currency: str,
) -> MessageOut:
    """Queue one message; the same idempotency key returns the message already queued."""
    template = _template(session, data.template)
    known = set(session.scalars(select(Channel.name).where(Channel.name.in_(data.channels))))
    missing = [name for name in data.channels if name not in known]
    if missing:
        raise InvalidInput(f"channels: no channel named {', '.join(missing)}")
    if data.send_at is not None and data.send_at.tzinfo is None:
        raise InvalidInput("send_at needs a time zone, e.g. 2026-12-01T09:00:00+07:00")
    [message_id] = enqueue(
        session,
        items=[
            Outgoing(
                profile_id=data.profile_id,
                template_id=template.id,
                channels=tuple(data.channels),
                idempotency_key=data.idempotency_key,
                category=data.category or template.category,
                origin="api",
                event=data.event,
                coupon_code=data.coupon_code,
                variables=data.variables,
                send_at=data.send_at,
            )
        ],
        rules=rules,
        catalog=catalog,
        currency=currency,
    )
    return get_message(session, message_id=message_id)


def get_message(session: Session, *, message_id: str) -> MessageOut:
    """Return one message."""
    row = session.get(Message, message_id)
    if row is None:
        raise NotFound(f"message '{message_id}' does not exist")
    return _message_out(session, row)


def list_messages(
    session: Session,
    *,
    profile_id: str | None = None,
    status: str | None = None,
    campaign_id: str | None = None,
    limit: int = 100,
) -> list[MessageOut]:
    """Return the newest messages matching every filter given."""
    query = select(Message).order_by(Message.created_at.desc(), Message.id).limit(limit)
    if profile_id:
        query = query.where(Message.profile_id == profile_id)
    if status:
        query = query.where(Message.status == status)
    if campaign_id:
        query = query.where(Message.campaign_id == campaign_id)
    return [_message_out(session, row) for row in session.scalars(query)]


def retry_message(session: Session, *, message_id: str, rules: MessagingRules) -> MessageOut:
    """Send a dead-lettered message again (an operator's decision, e.g. after a fix)."""
    row = session.get(Message, message_id)
    if row is None:
        raise NotFound(f"message '{message_id}' does not exist")
    if row.status != "failed" or row.kind is None or not row.content:
        raise Conflict(f"message '{message_id}' is {row.status}; only failed sends can retry")
    row.status, row.due_at, row.attempts, row.finished_at = "queued", rules.clock(), 0, None
    row.reason = "retried by an operator"
    return _message_out(session, row)


def record_receipt(session: Session, *, data: ReceiptInput, rules: MessagingRules) -> MessageOut:
    """Apply a provider's delivery report or bounce."""
    row = tracking.record_receipt(session, receipt=data, rules=rules)
    return _message_out(session, row)


def _message_out(session: Session, row: Message) -> MessageOut:
    channel = session.get(Channel, row.channel_id) if row.channel_id else None
    return MessageOut(
        id=row.id,
        idempotency_key=row.idempotency_key,
        profile_id=row.profile_id,
        channel=channel.name if channel else None,
        kind=row.kind,
        status=row.status,
        reason=row.reason,
        category=row.category,
        language=row.language,
        attempts=row.attempts,
        due_at=row.due_at,
        provider_message_id=row.provider_message_id,
        units=row.units,
        content=row.content,
        template_id=row.template_id,
        campaign_id=row.campaign_id,
        variant=row.variant,
        origin=row.origin,
        created_at=row.created_at,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        opened_at=row.opened_at,
        clicked_at=row.clicked_at,
        replied_at=row.replied_at,
    )


def subscribe_push(
    session: Session, *, data: PushSubscriptionInput, rules: MessagingRules
) -> dict[str, Any]:
    """Keep a browser's push subscription for a profile (the same endpoint moves owner)."""
    people = Recipients(session, [data.profile_id], "THB").people
    if data.profile_id not in people:
        raise NotFound(f"profile '{data.profile_id}' does not exist")
    owner = people[data.profile_id].profile_id
    subscription = {"endpoint": data.endpoint, "keys": data.keys.model_dump()}
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == data.endpoint))
    if row is None:
        row = PushSubscription(id=new_id("psub"), endpoint=data.endpoint, created_at=rules.clock())
        session.add(row)
    row.profile_id, row.subscription, row.gone_at = owner, subscription, None
    session.flush()
    return {"id": row.id, "profile_id": owner, "endpoint": row.endpoint}


# -- inbound webhooks -------------------------------------------------------------------------


def receive_line(
    session: Session, *, channel: str, body: bytes, signature: str | None, rules: MessagingRules
) -> int:
    """Verify a LINE webhook (X-Line-Signature) and record its events."""
    row = _inbound_channel(session, channel, "line")
    secret = str(row.config.get("channel_secret", ""))
    if not line.verify_signature(secret, body, signature):
        raise Unauthorized("X-Line-Signature does not match the body and the channel secret")
    return _record_inbound(session, row, line.parse_webhook, body, rules)


def receive_facebook(
    session: Session, *, channel: str, body: bytes, signature: str | None, rules: MessagingRules
) -> int:
    """Verify a Messenger webhook (X-Hub-Signature-256) and record its events."""
    row = _inbound_channel(session, channel, "facebook")
    secret = str(row.config.get("app_secret", ""))
    if not facebook.verify_signature(secret, body, signature):
        raise Unauthorized("X-Hub-Signature-256 does not match the body and the app secret")
    return _record_inbound(session, row, facebook.parse_webhook, body, rules)


def _record_inbound(
    session: Session,
    row: Channel,
    parse: Callable[[bytes], list[InboundEvent]],
    body: bytes,
    rules: MessagingRules,
) -> int:
    try:
        events = parse(body)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return tracking.record_inbound(session, channel=row, events=events, rules=rules)


def verify_facebook_subscription(
    session: Session, *, channel: str, mode: str | None, token: str | None, challenge: str | None
) -> str:
    """Answer Meta's subscription handshake with the challenge when the token matches."""
    row = _inbound_channel(session, channel, "facebook")
    answer = facebook.verify_subscription(
        mode, token, challenge, str(row.config.get("verify_token", ""))
    )
    if answer is None:
        raise Unauthorized("hub.verify_token does not match the channel's verify token")
    return answer


def _inbound_channel(session: Session, name: str, kind: str) -> Channel:
    row = session.scalar(select(Channel).where(Channel.name == name, Channel.kind == kind))
    if row is None or not row.enabled:
        raise NotFound(f"no enabled {kind} channel named '{name}'")
    return row


# -- campaigns --------------------------------------------------------------------------------


def launch_campaign(
    session: Session,
    *,
    campaign_id: str,
    rules: MessagingRules,
    catalog: consent.PurposeCatalog,
    currency: str,
) -> CampaignOut:
    """Queue a campaign's messages now."""
    return campaigns.launch(
        session, campaign_id=campaign_id, rules=rules, catalog=catalog, currency=currency
    )


# -- personal data ----------------------------------------------------------------------------


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return every message sent or queued to the person, and their push subscriptions."""
    ids = list(subject.profile_ids)
    messages = session.scalars(select(Message).where(Message.profile_id.in_(ids)))
    subs = session.scalars(select(PushSubscription).where(PushSubscription.profile_id.in_(ids)))
    return {
        "messages": [_message_out(session, m).model_dump(mode="json") for m in messages],
        "push_subscriptions": [
            {"endpoint": s.endpoint, "created_at": s.created_at.isoformat()} for s in subs
        ],
    }


def erase_personal_data(session: Session, subject: DataSubject) -> Mapping[str, int]:
    """Delete the person's messages, campaign assignments and push subscriptions."""
    ids = list(subject.profile_ids)
    removed = {
        "messages": affected_rows(session, delete(Message).where(Message.profile_id.in_(ids))),
        "push_subscriptions": affected_rows(
            session, delete(PushSubscription).where(PushSubscription.profile_id.in_(ids))
        ),
    }
    removed["campaign_recipients"] = campaigns.erase_recipients(session, ids)
    return removed


def status_counts(session: Session, *, key_prefix: str) -> dict[str, int]:
    """Count messages by status among those whose idempotency key starts with a prefix."""
    # substr, not LIKE: exact and case-sensitive on both backends.
    rows = session.execute(
        select(Message.status, func.count())
        .where(func.substr(Message.idempotency_key, 1, len(key_prefix)) == key_prefix)
        .group_by(Message.status)
    )
    return {str(status): int(count) for status, count in rows}


def purge_messages(session: Session, cutoff: datetime) -> int:
    """Delete finished messages created before ``cutoff`` (the retention of message logs)."""
    return affected_rows(
        session,
        delete(Message).where(
            Message.created_at < cutoff,
            Message.status.notin_(
                ("queued", "sending"),
            ),
        ),
    )
