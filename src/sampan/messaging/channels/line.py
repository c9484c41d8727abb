"""LINE Official Account channel: push, multicast and reply through the Messaging API.

Also holds the pure helpers for LINE's inbound webhook: signature check and event parsing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    Message,
    MessagingApi,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sampan.messaging.channels.base import (
    ContentError,
    Delivery,
    Envelope,
    InboundEvent,
    PermanentError,
    TransientError,
)

KIND = "line"

_MAX_MESSAGES = 5
_MAX_MULTICAST = 500
_MAX_TEXT = 5000
_MAX_ALT_TEXT = 1500
_MAX_URL = 2000
_MAX_CAROUSEL = 12
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Derives a UUID retry key from a non-UUID one, so the same key always maps to the same UUID.
_RETRY_KEY_NAMESPACE = uuid.UUID("5b0f7d0e-3c57-4c52-9a4f-4e7a2d5b7a10")
_INBOUND_KINDS = frozenset({"follow", "unfollow", "message", "postback"})
# A retry key already written as LINE wants it (most are: the outbox makes UUIDs).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

T = TypeVar("T")


class Config(BaseModel):
    """Credentials of one LINE Official Account channel and where its API lives."""

    model_config = ConfigDict(extra="forbid")

    channel_access_token: SecretStr
    channel_secret: SecretStr
    api_base: str = "https://api.line.me"
    timeout_seconds: float = Field(default=10.0, gt=0)
    # Parallel HTTP connections kept to the API (the dispatcher sends from several threads).
    max_connections: int = Field(default=10, ge=1, le=200)

    @field_validator("channel_access_token", "channel_secret")
    @classmethod
    def _secret_is_one_token(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret.strip():
            raise ValueError("must not be empty")
        if any(ch.isspace() for ch in secret):
            raise ValueError("must not contain spaces or line breaks (copy it again from LINE)")
        return value

    @field_validator("api_base")
    @classmethod
    def _api_base_is_https(cls, value: str) -> str:
        value = value.rstrip("/")
        parts = urlsplit(value)
        if not _is_allowed_url(parts.scheme, parts.hostname) or parts.query or parts.fragment:
            raise ValueError(
                f"api_base must be an https URL without query (http only for 127.0.0.1 or "
                f"localhost), got {value!r}"
            )
        return value


def check_content(content: Mapping[str, Any]) -> None:
    """Raise ContentError unless ``content`` is ``{"messages": [1-5 LINE message objects]}``."""
    _parse_messages(content)


class Adapter:
    """Send to LINE users by push (one), multicast (up to 500) or reply (with a reply token)."""

    idempotent = True
    max_recipients = _MAX_MULTICAST

    def __init__(self, config: Config) -> None:
        self._config = config
        configuration = Configuration(
            host=config.api_base,
            access_token=config.channel_access_token.get_secret_value(),
        )
        # Retry only failed connects inside urllib3; everything else is the dispatcher's call.
        configuration.retries = urllib3.Retry(
            total=None, connect=1, read=0, redirect=0, status=0, other=0
        )
        configuration.connection_pool_maxsize = config.max_connections
        self._client = ApiClient(configuration)
        self._api = MessagingApi(self._client)

    def send(self, envelope: Envelope) -> Delivery:
        """Deliver ``envelope`` to its LINE user ids; raise TransientError or PermanentError."""
        to = list(envelope.to)
        if not to:
            raise PermanentError("a LINE envelope needs at least one user id")
        if len(to) > _MAX_MULTICAST:
            raise PermanentError(f"LINE multicast takes at most 500 user ids, got {len(to)}")
        try:
            messages = _parse_messages(envelope.content)
        except ContentError as exc:
            raise PermanentError(f"content cannot be sent: {exc}") from exc
        retry_key = line_retry_key(envelope.retry_key)
        try:
            # A reply token belongs to one user's chat, so it only applies to a single recipient.
            if envelope.reply_token is not None and len(to) == 1:
                delivery = self._reply(envelope.reply_token, messages)
                if delivery is not None:
                    return delivery
            if len(to) > 1:
                return self._multicast(to, messages, retry_key)
            return self._push(to[0], messages, retry_key)
        except _AlreadyAccepted as accepted:
            return Delivery(
                provider_message_id=accepted.request_id,
                units=len(to),
                duplicate=True,
                detail={"accepted_request_id": accepted.request_id},
            )

    def close(self) -> None:
        """Close the HTTP connections to LINE."""
        self._client.close()
        self._client.rest_client.pool_manager.clear()

    def _push(self, to: str, messages: list[Any], retry_key: str) -> Delivery:
        request = PushMessageRequest(to=to, messages=messages)
        response = self._call(
            "push",
            lambda: self._api.push_message_with_http_info(
                request, x_line_retry_key=retry_key, _request_timeout=self._timeout
            ),
        )
        return _sent(response, "push", units=1)

    def _multicast(self, to: list[str], messages: list[Any], retry_key: str) -> Delivery:
        request = MulticastRequest(to=to, messages=messages)
        response = self._call(
            "multicast",
            lambda: self._api.multicast_with_http_info(
                request, x_line_retry_key=retry_key, _request_timeout=self._timeout
            ),
        )
        request_id = _header(response.headers, "x-line-request-id")
        return Delivery(
            provider_message_id=request_id,
            units=len(to),
            detail={"endpoint": "multicast", "request_id": request_id},
        )

    def _reply(self, reply_token: str, messages: list[Any]) -> Delivery | None:
        """Reply, or return None when LINE no longer accepts the token (used or expired)."""
        request = ReplyMessageRequest(replyToken=reply_token, messages=messages)
        try:
            response = self._call(
                "reply",
                lambda: self._api.reply_message_with_http_info(
                    request, _request_timeout=self._timeout
                ),
            )
        except PermanentError as exc:
            if exc.status == 400 and "reply token" in exc.message.lower():
                return None
            raise
        return _sent(response, "reply", units=1)

    @property
    def _timeout(self) -> float:
        return self._config.timeout_seconds

    def _call(self, operation: str, request: Callable[[], T]) -> T:
        try:
            return request()
        except ApiException as exc:
            if exc.status == 409:
                raise _AlreadyAccepted(_header(exc.headers, "x-line-accepted-request-id")) from exc
            raise _api_error(operation, exc) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(
                f"cannot reach LINE at {self._config.api_base} ({operation}): {exc}"
            ) from exc
        except ValueError as exc:
            # 2xx with a body the SDK cannot read: for push and multicast the retry key makes
            # a resend harmless.
            raise TransientError(
                f"LINE {operation} answered an unreadable response: {exc}"
            ) from exc


class _AlreadyAccepted(Exception):
    """LINE answered 409: it already accepted a request with this retry key."""

    def __init__(self, request_id: str | None) -> None:
        super().__init__(request_id)
        self.request_id = request_id


def line_retry_key(retry_key: str) -> str:
    """Return ``retry_key`` as the UUID LINE requires, deriving one if it is not a UUID."""
    if _CANONICAL_UUID.fullmatch(retry_key):
        return retry_key
    try:
        return str(uuid.UUID(retry_key))
    except ValueError:
        return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, retry_key))


def _sent(response: Any, endpoint: str, *, units: int) -> Delivery:
    request_id = _header(response.headers, "x-line-request-id")
    sent = response.data.sent_messages if response.data is not None else []
    first_id = sent[0].id if sent else None
    return Delivery(
        provider_message_id=first_id or request_id,
        units=units,
        detail={
            "endpoint": endpoint,
            "request_id": request_id,
            "sent_message_ids": [message.id for message in sent],
        },
    )


def _api_error(operation: str, exc: Any) -> TransientError | PermanentError:
    status: int = exc.status or 0
    if status == 0:
        # The SDK reports TLS failures as status 0.
        return TransientError(f"LINE {operation} failed before an answer: {exc.reason}")
    message = f"LINE {operation} answered {status}: {_error_text(exc.body) or exc.reason}"
    if status in (408, 429) or status >= 500:
        return TransientError(
            message, status=status, retry_after=_retry_after(_header(exc.headers, "retry-after"))
        )
    return PermanentError(message, status=status)


def _error_text(body: Any) -> str:
    """Return LINE's error ``message`` and ``details`` as one line."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return ""
    try:
        parsed = json.loads(body)
    except ValueError:
        return str(body)[:500]
    if not isinstance(parsed, dict):
        return str(body)[:500]
    text = str(parsed.get("message", ""))
    details = parsed.get("details")
    if isinstance(details, list) and details:
        described = [
            f"{d.get('property', '?')}: {d.get('message', '')}"
            for d in details
            if isinstance(d, dict)
        ]
        text = f"{text} [{'; '.join(described)}]"
    return text


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return None if value is None else str(value)


def _is_allowed_url(scheme: str, host: str | None) -> bool:
    if not host:
        return False
    return scheme == "https" or (scheme == "http" and host in _LOOPBACK_HOSTS)


# --- content ------------------------------------------------------------------------------


def _parse_messages(content: Mapping[str, Any]) -> list[Any]:
    """Validate rendered content and return it as SDK message models."""
    if not isinstance(content, Mapping):
        raise ContentError(
            f"content must be an object with a messages list, got {type(content).__name__}"
        )
    messages = content.get("messages")
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise ContentError("messages is required and must be a list of 1 to 5 LINE messages")
    if not 1 <= len(messages) <= _MAX_MESSAGES:
        raise ContentError(f"messages must hold 1 to 5 messages, got {len(messages)}")
    return [_parse_message(f"messages[{i}]", message) for i, message in enumerate(messages)]


def _parse_message(path: str, message: Any) -> Any:
    if not isinstance(message, Mapping):
        raise ContentError(f"{path} must be an object")
    kind = message.get("type")
    check = _CHECKS.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise ContentError(f"{path}.type must be one of text, image, flex, sticker; got {kind!r}")
    check(path, message)
    try:
        return Message.from_dict(dict(message))
    except ValueError as exc:
        # The SDK checks nested flex components that the checks above do not cover.
        detail = " ".join(str(exc).split())
        raise ContentError(f"{path} is not a valid LINE {kind} message: {detail}") from exc


def _check_text(path: str, message: Mapping[str, Any]) -> None:
    text = message.get("text")
    if not isinstance(text, str):
        raise ContentError(f"{path}.text is required for a text message and must be a string")
    # LINE counts characters in UTF-16 code units, so an emoji counts as two.
    length = len(text.encode("utf-16-le")) // 2
    if not 1 <= length <= _MAX_TEXT:
        raise ContentError(f"{path}.text must be 1 to {_MAX_TEXT} characters, got {length}")


def _check_image(path: str, message: Mapping[str, Any]) -> None:
    for field in ("originalContentUrl", "previewImageUrl"):
        url = message.get(field)
        if not isinstance(url, str) or not url:
            raise ContentError(f"{path}.{field} is required for an image message")
        if len(url) > _MAX_URL:
            raise ContentError(f"{path}.{field} must be at most {_MAX_URL} characters")
        parts = urlsplit(url)
        if not _is_allowed_url(parts.scheme, parts.hostname):
            raise ContentError(f"{path}.{field} must be an https URL, got {url!r}")


def _check_flex(path: str, message: Mapping[str, Any]) -> None:
    alt_text = message.get("altText")
    if not isinstance(alt_text, str) or not alt_text:
        raise ContentError(f"{path}.altText is required for a flex message")
    if len(alt_text) > _MAX_ALT_TEXT:
        raise ContentError(
            f"{path}.altText must be at most {_MAX_ALT_TEXT} characters, got {len(alt_text)}"
        )
    contents = message.get("contents")
    if not isinstance(contents, Mapping) or contents.get("type") not in ("bubble", "carousel"):
        raise ContentError(
            f"{path}.contents is required for a flex message and must be an object "
            "with type 'bubble' or 'carousel'"
        )
    if contents["type"] == "carousel":
        bubbles = contents.get("contents")
        if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= _MAX_CAROUSEL:
            raise ContentError(f"{path}.contents.contents must hold 1 to 12 bubbles")


def _check_sticker(path: str, message: Mapping[str, Any]) -> None:
    for field in ("packageId", "stickerId"):
        value = message.get(field)
        if not isinstance(value, str) or not value:
            raise ContentError(
                f"{path}.{field} is required for a sticker message and must be a string"
            )


_CHECKS: dict[str, Callable[[str, Mapping[str, Any]], None]] = {
    "text": _check_text,
    "image": _check_image,
    "flex": _check_flex,
    "sticker": _check_sticker,
}


# --- inbound webhook ----------------------------------------------------------------------


def verify_signature(channel_secret: str, body: bytes, signature: str | None) -> bool:
    """Return whether ``signature`` (X-Line-Signature) is LINE's HMAC-SHA256 of ``body``."""
    if not signature:
        return False
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature.encode())


def parse_webhook(body: bytes) -> list[InboundEvent]:
    """Turn a verified LINE webhook body into events; skip kinds Sampan does not record."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"LINE webhook body is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise ValueError("LINE webhook body must be an object with an 'events' list")
    events: list[InboundEvent] = []
    for index, event in enumerate(payload["events"]):
        if not isinstance(event, dict):
            raise ValueError(f"events[{index}] must be an object")
        parsed = _parse_event(index, event)
        if parsed is not None:
            events.append(parsed)
    return events


def _parse_event(index: int, event: dict[str, Any]) -> InboundEvent | None:
    kind = event.get("type")
    source = event.get("source")
    user_id = source.get("userId") if isinstance(source, dict) else None
    if kind not in _INBOUND_KINDS or not isinstance(user_id, str) or not user_id:
        return None
    event_id = event.get("webhookEventId")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError(f"events[{index}].webhookEventId is missing")
    timestamp = event.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise ValueError(f"events[{index}].timestamp must be an integer (milliseconds)")
    text = None
    postback_data = None
    if kind == "message":
        message = event.get("message")
        if isinstance(message, dict) and message.get("type") == "text":
            text = message.get("text")
    elif kind == "postback":
        postback = event.get("postback")
        if isinstance(postback, dict):
            postback_data = postback.get("data")
    delivery = event.get("deliveryContext")
    reply_token = event.get("replyToken")
    return InboundEvent(
        kind=kind,
        channel_user_id=user_id,
        timestamp_ms=timestamp,
        event_id=event_id,
        text=text if isinstance(text, str) else None,
        postback_data=postback_data if isinstance(postback_data, str) else None,
        reply_token=reply_token if isinstance(reply_token, str) else None,
        redelivery=bool(isinstance(delivery, dict) and delivery.get("isRedelivery")),
        raw=event,
    )
