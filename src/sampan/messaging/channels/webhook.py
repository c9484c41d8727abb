"""Outgoing webhooks: signed JSON POSTs to a business's own system (call centre, ERP).

Receivers verify ``X-Sampan-Signature`` with :func:`verify_signature` and drop a repeated
``X-Sampan-Delivery``; that contract is what makes resending safe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sampan.messaging.channels.base import ContentError, Delivery, Envelope, PermanentError
from sampan.messaging.channels.provider_http import (
    checked_http_url,
    error_for_answer,
    error_for_transport,
)

KIND = "webhook"
MIN_SECRET_LENGTH = 16
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_RESERVED_HEADERS = ("content-type", "content-length", "host", "transfer-encoding")


class Config(BaseModel):
    """Where to POST, the shared signing secret, and any extra headers the receiver wants."""

    model_config = ConfigDict(extra="forbid")

    url: str
    secret: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Values may carry credentials (an Authorization header): secret, shown back masked.
    headers: dict[str, SecretStr] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, url: str) -> str:
        return checked_http_url(url, field="url")

    @field_validator("secret")
    @classmethod
    def _secret_is_long(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"secret must be at least {MIN_SECRET_LENGTH} characters")
        return secret

    @field_validator("headers")
    @classmethod
    def _headers_are_extra(cls, headers: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, secret in headers.items():
            value = secret.get_secret_value()
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"headers: {name!r} is not a valid HTTP header name")
            lowered = name.lower()
            if lowered in _RESERVED_HEADERS or lowered.startswith("x-sampan-"):
                raise ValueError(f"headers: {name!r} is set by Sampan and cannot be configured")
            if "\r" in value or "\n" in value:
                raise ValueError(f"headers: the value of {name!r} contains a line break")
        return headers


def check_content(content: Mapping[str, Any]) -> None:
    """Refuse content other than ``{"payload": <JSON object>}``."""
    unknown = sorted(set(content) - {"payload"})
    if unknown:
        raise ContentError(f"content has unknown field {unknown[0]!r}: expected only 'payload'")
    payload = content.get("payload")
    if not isinstance(payload, Mapping):
        raise ContentError("content['payload'] must be a JSON object")
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise ContentError(f"content['payload'] is not JSON: {exc}") from exc


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return ``sha256=<hex>``: HMAC-SHA256 of ``f"{timestamp}."`` followed by the body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """Return whether a delivery is signed with ``secret`` and its timestamp is fresh.

    For receivers. A timestamp more than ``tolerance_seconds`` away from ``now`` is refused,
    so a captured delivery cannot be replayed later.
    """
    if not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip())


class Adapter:
    """POST each message as signed JSON to the configured URL.

    Idempotent: every resend carries the same ``X-Sampan-Delivery`` (the retry key), which
    receivers are told to drop when seen before.
    """

    idempotent: bool = True
    max_recipients: int = 1

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._secret = config.secret.get_secret_value()
        self._client = httpx.Client(
            timeout=config.timeout_seconds,
            headers={name: value.get_secret_value() for name, value in config.headers.items()},
        )

    def send(self, envelope: Envelope) -> Delivery:
        """POST the envelope's payload; any 2xx is a delivery."""
        try:
            check_content(envelope.content)
        except ContentError as exc:
            raise PermanentError(f"webhook content refused: {exc}") from exc
        body = json.dumps(
            {
                "id": envelope.message_id,
                "category": envelope.category,
                "to": list(envelope.to),
                "payload": envelope.content["payload"],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "X-Sampan-Delivery": envelope.retry_key,
            "X-Sampan-Timestamp": timestamp,
            "X-Sampan-Signature": sign(self._secret, timestamp, body),
        }
        try:
            response = self._client.post(self.config.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, provider="webhook receiver") from exc
        if not response.is_success:
            raise error_for_answer(response, provider="webhook receiver", now=self._clock())
        try:
            answer = response.json()
        except ValueError:
            answer = None
        receipt = answer.get("id") if isinstance(answer, dict) else None
        return Delivery(provider_message_id=str(receipt) if receipt is not None else None)

    def close(self) -> None:
        """Close the receiver connections."""
        self._client.close()
