"""What every channel adapter is: turn one rendered envelope into one provider request.

Adapters are synchronous and thread-safe; the dispatcher calls ``send`` from worker threads.
They never touch the database: the dispatcher records what they answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Envelope:
    """One provider request: who to, what, and the key that makes a resend harmless.

    ``to`` holds one address (e-mail address, LINE user id, E.164 phone, Messenger PSID,
    Web Push subscription JSON, webhook: ignored) or, for LINE multicast, up to 500 user ids
    with identical content. ``retry_key`` is stable across resends of the same message: LINE
    gets it as ``X-Line-Retry-Key`` (a UUID), outgoing webhooks as ``X-Sampan-Delivery``.
    """

    message_id: str
    retry_key: str
    to: tuple[str, ...]
    content: Mapping[str, Any]
    category: str = "marketing"
    # E-mail: {"List-Unsubscribe": "<https://...>, <mailto:...>", "List-Unsubscribe-Post": ...}
    headers: Mapping[str, str] = field(default_factory=dict)
    # LINE: a reply token received recently; the adapter replies with it, else pushes.
    reply_token: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What the provider answered for an accepted request."""

    provider_message_id: str | None
    # SMS parts billed, LINE recipients of a multicast; 1 elsewhere.
    units: int = 1
    # True when the provider recognised the retry key and did not send again.
    duplicate: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)


class ChannelError(Exception):
    """The provider did not accept the request."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TransientError(ChannelError):
    """Worth retrying later: timeouts, connection errors, 429, 5xx.

    ``in_doubt`` says the request may have reached the provider (a read timeout, a dropped
    connection after the body was sent): on a channel that cannot drop a resend, the
    dispatcher does not retry it, so the message cannot arrive twice.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        in_doubt: bool = False,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.in_doubt = in_doubt


class PermanentError(ChannelError):
    """Retrying cannot help: bad address, rejected content, 4xx other than 408/429."""


class ChannelAdapter(Protocol):
    """The interface every channel implements."""

    # Whether a resend with the same retry key is harmless because the provider (or the
    # receiver) drops it; the dispatcher retries in-doubt sends only for these channels.
    idempotent: bool
    # Most addresses one envelope may carry (500 for LINE multicast, else 1).
    max_recipients: int

    def send(self, envelope: Envelope) -> Delivery:
        """Send one envelope or raise TransientError / PermanentError."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class InboundEvent:
    """Something a customer did on a channel, parsed from a verified webhook."""

    kind: str  # follow, unfollow, message, postback, delivery, read
    channel_user_id: str  # LINE user id or Messenger PSID
    timestamp_ms: int
    event_id: str  # the provider's id of the event, for idempotent recording
    text: str | None = None
    postback_data: str | None = None
    reply_token: str | None = None
    redelivery: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)


class ContentError(ValueError):
    """Rendered content this channel cannot send; the message names the field."""
