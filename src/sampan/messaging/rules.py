"""Pure rules of sending: quiet hours, retry backoff, frequency caps, channel choice."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

CATEGORIES = ("marketing", "transactional")
# Purposes of the consent catalogue each category of message is sent for.
PURPOSE_OF_CATEGORY = {"marketing": "marketing", "transactional": "service"}
# The identifier type holding a person's address on each channel kind; push subscriptions
# and webhook targets are not identifiers.
ADDRESS_TYPES = {
    "email": "email",
    "sms": "phone",
    "line": "line_user_id",
    "facebook": "facebook_psid",
}
# Channel kinds whose consent slot in the catalogue differs from the kind's name.
CONSENT_CHANNEL = {"webhook": "phone"}


def quiet_until(now: datetime, *, timezone: str, start: time, end: time) -> datetime | None:
    """Return when quiet hours end if ``now`` falls inside them in ``timezone``, else None.

    A window whose start is after its end (21:00-08:00) spans midnight.
    """
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    if start < end:
        inside = start <= clock < end
        ends_on = local.date()
    else:
        inside = clock >= start or clock < end
        ends_on = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(ends_on, end, tzinfo=zone).astimezone(now.tzinfo)


def backoff_seconds(
    attempts: int, *, base: float, cap: float, key: str, retry_after: float | None = None
) -> float:
    """Return the wait before attempt ``attempts + 1``: exponential, capped, with jitter.

    The jitter (up to a quarter of the delay) comes from ``key`` so that one message always
    waits the same, and many messages failing together do not come back together.
    """
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    spread = int.from_bytes(hashlib.blake2b(f"{key}:{attempts}".encode(), digest_size=2).digest())
    delay = delay * (0.75 + 0.25 * spread / 0xFFFF)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(min(cap, delay))


def over_cap(
    sent_at: Sequence[datetime], *, now: datetime, per_day: int | None, per_week: int | None
) -> str | None:
    """Return which cap one more message would break, given the times already sent."""
    if per_day is not None and sum(1 for t in sent_at if t > now - timedelta(days=1)) >= per_day:
        return f"frequency cap of {per_day} per day reached"
    if per_week is not None and sum(1 for t in sent_at if t > now - timedelta(days=7)) >= per_week:
        return f"frequency cap of {per_week} per week reached"
    return None


@dataclass(frozen=True)
class Candidate:
    """One channel a message could go out on, and what stands in the way."""

    channel: str
    address: str | None
    has_content: bool
    allowed: bool
    refusal: str | None


def choose_channel(candidates: Sequence[Candidate]) -> tuple[Candidate | None, list[str]]:
    """Pick the first channel with content, an address and no refusal; say why others lost."""
    reasons = []
    for candidate in candidates:
        if not candidate.has_content:
            reasons.append(f"{candidate.channel}: the template has no content for this channel")
        elif candidate.address is None:
            reasons.append(f"{candidate.channel}: no address for this person")
        elif not candidate.allowed:
            reasons.append(f"{candidate.channel}: {candidate.refusal}")
        else:
            return candidate, reasons
    return None, reasons
