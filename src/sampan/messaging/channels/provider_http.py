"""Turn a provider's HTTP failure into TransientError or PermanentError, keeping its words."""

from __future__ import annotations

import email.utils
from datetime import UTC

import httpx

from sampan.messaging.channels.base import ChannelError, PermanentError, TransientError

# Enough of a provider's error body to act on, not a whole HTML error page in the outbox.
MAX_ERROR_TEXT = 500


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """Return the wait a ``Retry-After`` header asks for (delay-seconds or HTTP date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # HTTP dates are always GMT; "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def is_transient_status(status: int) -> bool:
    """Return whether an HTTP status is worth retrying: 408, 429 and every 5xx."""
    return status in (408, 429) or status >= 500


def error_for_answer(
    response: httpx.Response, *, provider: str, now: float, detail: str | None = None
) -> ChannelError:
    """Return the error for a non-2xx answer; ``detail`` replaces the raw body in the message."""
    status = response.status_code
    text = detail if detail is not None else response.text[:MAX_ERROR_TEXT].strip()
    message = f"{provider} answered HTTP {status}: {text or response.reason_phrase}"
    if is_transient_status(status):
        retry_after = retry_after_seconds(response.headers.get("retry-after"), now=now)
        return TransientError(message, status=status, retry_after=retry_after)
    return PermanentError(message, status=status)


def error_for_transport(exc: httpx.TransportError, *, provider: str) -> TransientError:
    """Return the error for a request that got no answer: refused, reset, timed out."""
    # Failing to connect means nothing was sent; failing later may mean it was.
    sent_nothing = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return TransientError(
        f"{provider} unreachable: {type(exc).__name__}: {exc}", in_doubt=not sent_nothing
    )


def checked_http_url(value: str, *, field: str) -> str:
    """Return ``value`` if it is an absolute http(s) URL with a host, else raise ValueError."""
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"{field} {value!r} is not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{field} {value!r} must be an absolute http:// or https:// URL")
    return value
