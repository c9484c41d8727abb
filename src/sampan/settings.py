"""Runtime settings, read from the environment with the ``SAMPAN_`` prefix."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CONTACT_CHANNELS = ("email", "sms", "line", "push", "facebook", "phone")
# The channel kinds messaging sends through.
MESSAGE_KINDS = ("email", "line", "sms", "facebook", "push", "webhook")


class ConsentPurpose(BaseModel):
    """A purpose personal data is processed for, as shown to the customer."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    title_th: str
    title_en: str
    # Marketing is consented channel by channel: e-mail yes, SMS no.
    per_channel: bool = False
    # False for purposes resting on another lawful basis, e.g. messages a contract needs.
    requires_consent: bool = True


def default_purposes() -> list[ConsentPurpose]:
    """Return the purposes a new workspace starts with."""
    return [
        ConsentPurpose(
            name="marketing",
            title_th="รับข่าวสาร โปรโมชัน และสิทธิพิเศษ",
            title_en="News, promotions and offers",
            per_channel=True,
        ),
        ConsentPurpose(
            name="personalisation",
            title_th="วิเคราะห์ความสนใจเพื่อแนะนำสินค้าที่เหมาะกับคุณ",
            title_en="Profiling to personalise what we show you",
        ),
        ConsentPurpose(
            name="analytics",
            title_th="เก็บสถิติการใช้งานเพื่อปรับปรุงบริการ",
            title_en="Usage analytics to improve our service",
        ),
        ConsentPurpose(
            name="partner_sharing",
            title_th="เปิดเผยข้อมูลแก่พันธมิตรทางธุรกิจ",
            title_en="Sharing with business partners",
        ),
        ConsentPurpose(
            name="service",
            title_th="แจ้งสถานะคำสั่งซื้อและบริการที่คุณใช้",
            title_en="Order and service notifications",
            per_channel=True,
            requires_consent=False,
        ),
    ]


class LifecycleThresholds(BaseModel):
    """Where one lifecycle stage ends and the next begins (seed 003)."""

    model_config = ConfigDict(extra="forbid")

    # A buyer whose last order is this recent is active; older is at risk.
    active_days: int = Field(default=90, ge=1)
    # Older than this since the last order is churned.
    churned_days: int = Field(default=180, ge=1)
    # Loyal/VIP: this much spent (major units) or this many orders, and still active.
    vip_spend: float = Field(default=20_000, ge=0)
    vip_orders: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _churn_after_active(self) -> LifecycleThresholds:
        if self.churned_days <= self.active_days:
            raise ValueError("lifecycle.churned_days must be more than lifecycle.active_days")
        return self


class QuietHours(BaseModel):
    """Hours in the recipient's time zone when marketing waits (start may be after end)."""

    model_config = ConfigDict(extra="forbid")

    start: time = time(21, 0)
    end: time = time(8, 0)


class FrequencyCap(BaseModel):
    """Most marketing messages one person receives on one channel kind per window."""

    model_config = ConfigDict(extra="forbid")

    per_day: int | None = Field(default=None, ge=0)
    per_week: int | None = Field(default=None, ge=0)


class RoutingRule(BaseModel):
    """How an order's items are assigned to the locations that ship or hand them over.

    Candidates are the locations that offer the fulfilment asked for and hold stock; they
    are tried in the order of ``prefer`` (location ids), then nearest to the destination.
    """

    model_config = ConfigDict(extra="forbid")

    prefer: list[str] = Field(default_factory=list)
    allow_split: bool = True
    max_locations: int = Field(default=3, ge=1, le=20)
    allow_backorder: bool = True
    default_lead_time_days: int = Field(default=7, ge=0, le=365)


class CommerceSettings(BaseModel):
    """Stock holds, routing and carrier webhooks of the commerce domain."""

    model_config = ConfigDict(extra="forbid")

    # "cart": units are held as soon as they are added; "checkout": only when the order is
    # placed, so carts never keep stock from people ready to pay.
    reserve_at: Literal["cart", "checkout"] = "checkout"
    cart_hold_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    routing: RoutingRule = Field(default_factory=RoutingRule)
    # Carriers post shipment statuses signed with this (HMAC-SHA256, hex, X-Sampan-Signature).
    carrier_webhook_secret: str | None = None
    pickup_code_attempts: int = Field(default=5, ge=1, le=100)


def default_frequency_caps() -> dict[str, FrequencyCap]:
    """Return the caps a new workspace starts with, per channel kind."""
    return {
        "email": FrequencyCap(per_day=2, per_week=7),
        "sms": FrequencyCap(per_day=1, per_week=3),
        "line": FrequencyCap(per_day=2, per_week=7),
        "facebook": FrequencyCap(per_day=2, per_week=7),
        "push": FrequencyCap(per_day=3, per_week=10),
    }


def default_retention_days() -> dict[str, int]:
    """Return the default retention period per data class, in days (0 keeps forever)."""
    return {"raw_events": 730, "inactive_profiles": 1095, "messages": 365}


class Settings(BaseSettings):
    """Settings of one Sampan workspace."""

    model_config = SettingsConfigDict(env_prefix="SAMPAN_", extra="ignore")

    data_dir: Path = Path("./sampan-data")
    database_url: str | None = None
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL"] = "FULL"
    default_phone_region: str = "TH"
    default_currency: str = "THB"
    timezone: str = "Asia/Bangkok"
    identity_limits: dict[str, int] = Field(default_factory=dict)
    identity_priority: list[str] = Field(default_factory=list)
    identity_custom_types: list[str] = Field(default_factory=list)
    identity_blocked_values: list[str] = Field(default_factory=list)
    # Small batches hold the SQLite write lock briefly, so ingestion is never kept waiting long.
    pipeline_batch_size: int = Field(default=200, ge=1, le=10_000)
    api_threads: int = Field(default=4, ge=1, le=200)
    # Browser SDKs post from the shop's own origin; list origins to restrict them.
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    # Console sessions (access): the cookie is HttpOnly and SameSite=Strict; Secure must be on
    # whenever Sampan is served over HTTPS, which browsers need to keep the cookie private.
    session_cookie_secure: bool = False
    session_ttl_minutes: int = Field(default=480, ge=1, le=43_200)
    login_attempts_per_minute: int = Field(default=10, ge=1, le=10_000)
    login_max_failures: int = Field(default=5, ge=1, le=1_000)
    login_lockout_minutes: int = Field(default=15, ge=1, le=10_080)
    consent_purposes: list[ConsentPurpose] = Field(default_factory=default_purposes)
    # PDPA section 30: a data-subject request is answered within 30 days.
    dsar_due_days: int = Field(default=30, ge=1, le=30)
    retention_days: dict[str, int] = Field(default_factory=default_retention_days)
    retention_interval_hours: float = Field(default=24.0, gt=0)
    preference_link_days: int = Field(default=90, ge=1, le=3650)
    # Time-based segments (inactivity, windows, birthdays) are re-evaluated this often.
    segment_interval_minutes: float = Field(default=5.0, gt=0, le=1440)
    lifecycle: LifecycleThresholds = Field(default_factory=LifecycleThresholds)
    # Where customers reach this server: preference and unsubscribe links start with it.
    public_url: str = "http://127.0.0.1:8000"
    # Messaging: policies applied to every marketing send, the sender's retries and pace.
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    frequency_caps: dict[str, FrequencyCap] = Field(default_factory=default_frequency_caps)
    message_max_attempts: int = Field(default=8, ge=1, le=50)
    message_retry_base_seconds: float = Field(default=30.0, gt=0)
    message_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    message_send_threads: int = Field(default=8, ge=1, le=256)
    message_batch_size: int = Field(default=500, ge=1, le=5_000)
    # A claimed message whose sender did not report back within this is in doubt.
    message_lease_seconds: float = Field(default=120.0, gt=0)
    commerce: CommerceSettings = Field(default_factory=CommerceSettings)

    @field_validator("frequency_caps")
    @classmethod
    def _caps_name_kinds(cls, caps: dict[str, FrequencyCap]) -> dict[str, FrequencyCap]:
        unknown = sorted(set(caps) - set(MESSAGE_KINDS))
        if unknown:
            raise ValueError(
                f"frequency_caps names unknown channel kinds {', '.join(unknown)}: "
                f"kinds are {', '.join(MESSAGE_KINDS)}"
            )
        return caps

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sampan.db').resolve()}"
