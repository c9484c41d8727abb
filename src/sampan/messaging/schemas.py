"""Shapes messaging accepts and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal

from pydantic import BaseModel, Field

from sampan.core.clock import Clock, system_clock
from sampan.settings import FrequencyCap

Category = Literal["marketing", "transactional"]
MessageStatus = Literal["queued", "sending", "sent", "delivered", "bounced", "failed", "suppressed"]


@dataclass(frozen=True)
class MessagingRules:
    """What every send obeys, built once from the settings."""

    public_url: str
    timezone: str
    quiet_start: time
    quiet_end: time
    caps: dict[str, FrequencyCap]
    preference_link_days: int
    max_attempts: int = 8
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 6 * 3600.0
    lease_seconds: float = 120.0
    clock: Clock = system_clock


class ChannelInput(BaseModel):
    """A provider account to send through."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,59}$", examples=["line-oa"])
    kind: str = Field(examples=["line"])
    config: dict[str, Any] = Field(
        examples=[{"channel_access_token": "...", "channel_secret": "..."}]
    )
    enabled: bool = True
    rate_per_second: float | None = Field(default=None, gt=0, le=100_000)


class ChannelOut(BaseModel):
    """A channel; secrets in its configuration are masked."""

    id: str
    name: str
    kind: str
    config: dict[str, Any]
    enabled: bool
    rate_per_second: float | None
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime


class TemplateInput(BaseModel):
    """A message in every channel kind and language it can go out in."""

    name: str = Field(min_length=1, max_length=100, examples=["cart-reminder"])
    category: Category = "marketing"
    bodies: dict[str, dict[str, Any]] = Field(
        description="{kind: {language: content}}, strings may use Jinja2 (docs/messaging.md)",
        examples=[
            {
                "line": {
                    "th": {
                        "messages": [{"type": "text", "text": "สวัสดีคุณ{{ profile.first_name }}"}]
                    },
                    "en": {"messages": [{"type": "text", "text": "Hi {{ profile.first_name }}"}]},
                },
                "sms": {"th": {"text": "สินค้าในตะกร้ารอคุณอยู่ {{ links.cart }}"}},
            }
        ],
    )


class TemplateOut(TemplateInput):
    """A stored template."""

    id: str
    created_at: datetime
    updated_at: datetime


class PreviewInput(BaseModel):
    """Render a template for one person without sending anything."""

    profile_id: str
    kind: str
    language: Literal["th", "en"] | None = None
    event: dict[str, Any] | None = None
    coupon_code: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)


class DraftPreviewInput(PreviewInput):
    """Render template bodies that are not saved yet (an editor's) for one person."""

    bodies: dict[str, dict[str, Any]] = Field(
        description="{kind: {language: content}}, as in a template; checked as a save checks it"
    )


class PreviewOut(BaseModel):
    """What the person would receive."""

    kind: str
    language: str
    content: dict[str, Any]
    sms_parts: int | None = Field(default=None, description="SMS only: the parts it is sent in")
    sms_encoding: str | None = Field(default=None, description="SMS only: GSM-7 or UCS-2")
    sms_units: int | None = Field(
        default=None,
        description="SMS only: its length in the encoding (GSM-7 septets, UTF-16 code units)",
    )


class SendInput(BaseModel):
    """One message to one person, through the first channel of ``channels`` that can carry it."""

    profile_id: str
    template: str = Field(description="template name or id")
    channels: list[str] = Field(min_length=1, description="channel names, preferred first")
    idempotency_key: str = Field(
        min_length=1, max_length=200, description="the same key is sent at most once"
    )
    category: Category | None = Field(default=None, description="default: the template's")
    event: dict[str, Any] | None = None
    coupon_code: str | None = Field(default=None, max_length=100)
    variables: dict[str, Any] = Field(default_factory=dict)
    send_at: datetime | None = None


@dataclass(frozen=True)
class Outgoing:
    """A message another domain asks to send (journeys, campaigns)."""

    profile_id: str
    template_id: str
    channels: tuple[str, ...]
    idempotency_key: str
    category: str
    origin: str
    event: dict[str, Any] | None = None
    coupon_code: str | None = None
    variables: dict[str, Any] | None = None
    send_at: datetime | None = None
    campaign_id: str | None = None
    variant: str | None = None


class MessageOut(BaseModel):
    """A message and where it stands."""

    id: str
    idempotency_key: str
    profile_id: str
    channel: str | None
    kind: str | None
    status: MessageStatus
    reason: str | None
    category: str
    language: str
    attempts: int
    due_at: datetime
    provider_message_id: str | None
    units: int
    content: dict[str, Any]
    template_id: str | None
    campaign_id: str | None
    variant: str | None
    origin: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    replied_at: datetime | None


class ReceiptInput(BaseModel):
    """A provider's report on a message it accepted earlier (delivery report, bounce)."""

    channel: str
    provider_message_id: str = Field(min_length=1, max_length=200)
    status: Literal["delivered", "bounced", "failed"]
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime | None = None


class PushKeys(BaseModel):
    """The browser's keys of a push subscription."""

    p256dh: str = Field(min_length=10)
    auth: str = Field(min_length=8)


class PushSubscriptionInput(BaseModel):
    """A Web Push subscription as the browser's ``PushSubscription.toJSON()`` gives it."""

    profile_id: str
    endpoint: str = Field(pattern=r"^https?://", max_length=1000)
    keys: PushKeys


class VariantInput(BaseModel):
    """One arm of a campaign."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    template: str
    weight: float = Field(default=1.0, gt=0)


class CampaignInput(BaseModel):
    """A broadcast of a template to a segment."""

    name: str = Field(min_length=1, max_length=200)
    segment_id: str
    channels: list[str] = Field(min_length=1)
    category: Category = "marketing"
    variants: list[VariantInput] = Field(min_length=1, max_length=10)
    control_percent: float = Field(default=0.0, ge=0, le=50)
    scheduled_at: datetime | None = None
    attribution_days: int = Field(default=3, ge=1, le=90)
    conversion_event: str = Field(default="Order Completed", min_length=1, max_length=200)


class CampaignOut(CampaignInput):
    """A stored campaign."""

    id: str
    status: Literal["draft", "scheduled", "sending", "sent", "cancelled"]
    launched_at: datetime | None
    created_at: datetime


class ArmStats(BaseModel):
    """Results of one variant, or of the control group."""

    arm: str
    targeted: int
    sent: int
    delivered: int
    opened: int
    clicked: int
    unsubscribed: int
    suppressed: int
    failed: int
    converted: int
    revenue: float
    conversion_rate: float


class Uplift(BaseModel):
    """A variant's conversion rate against the control group's."""

    arm: str
    absolute: float
    relative: float | None
    ci_low: float
    ci_high: float
    p_value: float | None


class CampaignStats(BaseModel):
    """Per-arm results and uplift against control."""

    campaign_id: str
    arms: list[ArmStats]
    uplift: list[Uplift]
