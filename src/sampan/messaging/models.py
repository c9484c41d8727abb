"""Tables owned by messaging: channels, templates, the message outbox, campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, JSONDoc, UTCDateTime


class Channel(Base):
    """One configured account on a provider: an SMTP server, a LINE OA, an SMS gateway."""

    __tablename__ = "messaging_channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Most requests per second this process sends to the provider (None: no limit).
    rate_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    # The collect source inbound webhooks and tracking write their events through.
    source_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Template(Base):
    """A message in every channel kind and language it can go out in."""

    __tablename__ = "messaging_templates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    # {kind: {language: content with Jinja2 strings}}
    bodies: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Message(Base):
    """One message to one person: written before any send attempt, keyed for idempotency."""

    __tablename__ = "messaging_messages"
    __table_args__ = (
        Index("ix_messaging_messages_status_due", "status", "due_at"),
        Index("ix_messaging_messages_profile_kind_sent", "profile_id", "kind", "sent_at"),
        Index("ix_messaging_messages_campaign", "campaign_id"),
        Index("ix_messaging_messages_provider_id", "provider_message_id"),
        Index("ix_messaging_messages_retry_key", "retry_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    profile_id: Mapped[str] = mapped_column(String(40), index=True)
    channel_id: Mapped[str | None] = mapped_column(String(40), default=None)
    kind: Mapped[str | None] = mapped_column(String(20), default=None)
    address: Mapped[str | None] = mapped_column(Text, default=None)
    # The identifiers tracking events about this message carry (userId / anonymousId ...).
    subject: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    content: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    links: Mapped[list[Any]] = mapped_column(JSONDoc, default=list)
    category: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="th")
    # The recipient's time zone, for quiet hours when a deferred message comes due.
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Bangkok")
    # queued, sending, sent, delivered, bounced, failed (dead letter), suppressed
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    retry_key: Mapped[str] = mapped_column(String(40))
    provider_message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    units: Mapped[int] = mapped_column(Integer, default=0)
    template_id: Mapped[str | None] = mapped_column(String(40), default=None)
    campaign_id: Mapped[str | None] = mapped_column(String(40), default=None)
    variant: Mapped[str | None] = mapped_column(String(40), default=None)
    origin: Mapped[str] = mapped_column(String(200), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ReplyToken(Base):
    """The latest LINE reply token of a user on a channel; usable once, for a short time."""

    __tablename__ = "messaging_reply_tokens"

    channel_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel_user_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    token: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PushSubscription(Base):
    """A browser or app's Web Push subscription, owned by one profile."""

    __tablename__ = "messaging_push_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(40), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    subscription: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Campaign(Base):
    """A broadcast of a template to a segment, with variants and a control group."""

    __tablename__ = "messaging_campaigns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    # channel names in order of preference
    channels: Mapped[list[Any]] = mapped_column(JSONDoc, default=list)
    # [{"name": "A", "template": "<template id>", "weight": 50}, ...]
    variants: Mapped[list[Any]] = mapped_column(JSONDoc, default=list)
    control_percent: Mapped[float] = mapped_column(Float, default=0.0)
    attribution_days: Mapped[int] = mapped_column(Integer, default=3)
    conversion_event: Mapped[str] = mapped_column(String(200), default="Order Completed")
    # draft, scheduled, sending, sent, cancelled
    status: Mapped[str] = mapped_column(String(20))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignRecipient(Base):
    """Who a campaign targeted and which arm (a variant or the control group) they fell in."""

    __tablename__ = "messaging_campaign_recipients"

    campaign_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    arm: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(40), default=None)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
