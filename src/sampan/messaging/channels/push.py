"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).

pywebpush encrypts; the request itself goes through this adapter's httpx client so that
connections are kept alive and errors map like every other channel's.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt as vapid_jwt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pywebpush import WebPusher

from sampan.messaging.channels.base import ContentError, Delivery, Envelope, PermanentError
from sampan.messaging.channels.provider_http import error_for_answer, error_for_transport

KIND = "push"
# Push services accept 4096 bytes of encrypted body; aes128gcm adds an 86-byte header
# (salt, record size, sender key), a 16-byte tag and a 1-byte delimiter.
MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1
# RFC 8292: a VAPID token must not be valid for more than 24 hours.
TOKEN_LIFETIME_SECONDS = 12 * 3600
CONTENT_FIELDS = ("title", "body", "url", "icon", "data")
_SUBJECT = re.compile(r"mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _b64url_decode(text: str) -> bytes:
    # Strict: the standard decoder silently skips characters outside the alphabet. Some
    # stored subscriptions use the standard alphabet (+/), so both are accepted.
    if not re.fullmatch(r"[A-Za-z0-9_\-+/]*={0,2}", text):
        raise ValueError(f"{text[:20]!r} is not base64url")
    text = text.rstrip("=").replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """Return the P-256 key in a PEM text or a base64url raw (32-byte) or DER private key."""
    text = text.strip()
    key: Any
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = _b64url_decode(re.sub(r"\s", "", text))
        if len(raw) == 32:
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        else:
            key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the key is not a P-256 (prime256v1) elliptic-curve key")
    return key


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """Return the base64url uncompressed point browsers take as ``applicationServerKey``."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url_encode(point)


def generate_vapid_keys() -> tuple[str, str]:
    """Return a new VAPID key pair: (base64url raw private key, base64url public key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64url_encode(private), public_key_b64(key)


class Config(BaseModel):
    """The VAPID identity this server pushes with, and how long pushes may wait."""

    model_config = ConfigDict(extra="forbid")

    # PEM, or base64url of the raw 32-byte key (what generate_vapid_keys gives) or of DER.
    vapid_private_key: SecretStr
    vapid_public_key: str
    vapid_subject: str
    ttl_seconds: int = Field(default=86400, ge=0, le=28 * 86400)
    urgency: Literal["very-low", "low", "normal", "high"] = "normal"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Real browsers always give https endpoints; plain http is for loopback test services.
    allow_http_endpoints: bool = False

    @field_validator("vapid_private_key")
    @classmethod
    def _private_key_loads(cls, secret: SecretStr) -> SecretStr:
        try:
            load_private_key(secret.get_secret_value())
        except (ValueError, TypeError, binascii.Error) as exc:
            raise ValueError(
                f"vapid_private_key is neither a PEM key nor a base64url P-256 private key ({exc})"
            ) from exc
        return secret

    @field_validator("vapid_subject")
    @classmethod
    def _subject_is_contact(cls, subject: str) -> str:
        if not _SUBJECT.fullmatch(subject):
            raise ValueError(
                f"vapid_subject {subject!r} must be a mailto: address or an https:// URL "
                "where push services can reach you"
            )
        return subject

    @model_validator(mode="after")
    def _public_key_matches(self) -> Config:
        key = load_private_key(self.vapid_private_key.get_secret_value())
        if self.vapid_public_key.rstrip("=") != public_key_b64(key):
            raise ValueError(
                "vapid_public_key is not the public half of vapid_private_key: browsers "
                "subscribed with it would refuse these pushes"
            )
        return self


def check_content(content: Mapping[str, Any]) -> None:
    """Refuse content other than title, body and optional url, icon, data, or too long."""
    unknown = sorted(set(content) - set(CONTENT_FIELDS))
    if unknown:
        raise ContentError(
            f"content has unknown field {unknown[0]!r}: expected {', '.join(CONTENT_FIELDS)}"
        )
    for field in ("title", "body"):
        if not isinstance(content.get(field), str) or not content[field].strip():
            raise ContentError(f"content[{field!r}] must be a non-empty string")
    for field in ("url", "icon"):
        value = content.get(field)
        if value is not None and not (
            isinstance(value, str) and re.match(r"https?://\S+$|/\S*$", value)
        ):
            raise ContentError(f"content[{field!r}] must be an http(s) URL or a path from /")
    if "data" in content and not isinstance(content["data"], Mapping):
        raise ContentError("content['data'] must be a JSON object")
    try:
        size = len(payload_bytes(content))
    except (TypeError, ValueError) as exc:
        raise ContentError(f"content is not JSON: {exc}") from exc
    if size > MAX_PAYLOAD_BYTES:
        raise ContentError(
            f"content is {size} bytes as JSON; a push payload holds at most {MAX_PAYLOAD_BYTES}"
        )


def payload_bytes(content: Mapping[str, Any]) -> bytes:
    """Return the JSON the service worker receives; Thai stays UTF-8 (3 bytes, not 6)."""
    return json.dumps(dict(content), ensure_ascii=False, separators=(",", ":")).encode()


def parse_subscription(text: str, *, allow_http: bool = False) -> dict[str, Any]:
    """Return a browser's ``PushSubscription.toJSON()`` as a dict, or raise ContentError."""
    try:
        subscription = json.loads(text)
    except ValueError as exc:
        raise ContentError(f"push subscription is not JSON: {exc}") from exc
    if not isinstance(subscription, dict):
        raise ContentError("push subscription must be a JSON object")
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str):
        raise ContentError("push subscription has no 'endpoint'")
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL as exc:
        raise ContentError(f"push subscription endpoint {endpoint!r} is not a URL") from exc
    insecure_ok = allow_http and url.scheme == "http" and url.host in _LOOPBACK_HOSTS
    if not url.host or (url.scheme != "https" and not insecure_ok):
        raise ContentError(f"push subscription endpoint {endpoint!r} must be an https URL")
    keys = subscription.get("keys")
    if not isinstance(keys, dict):
        raise ContentError("push subscription has no 'keys' object")
    p256dh = _key_bytes(keys, "p256dh")
    if len(p256dh) != 65 or p256dh[0] != 4:
        raise ContentError(
            "push subscription keys.p256dh must be a 65-byte uncompressed P-256 point"
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError as exc:
        raise ContentError("push subscription keys.p256dh is not a point on P-256") from exc
    if len(_key_bytes(keys, "auth")) != 16:
        raise ContentError("push subscription keys.auth must be 16 bytes")
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


def _key_bytes(keys: Mapping[str, Any], name: str) -> bytes:
    value = keys.get(name)
    if not isinstance(value, str) or not value:
        raise ContentError(f"push subscription keys.{name} is missing")
    try:
        return _b64url_decode(value)
    except (binascii.Error, ValueError) as exc:
        raise ContentError(f"push subscription keys.{name} is not base64url") from exc


def _origin(endpoint: str) -> str:
    url = httpx.URL(endpoint)
    default_port = {"http": 80, "https": 443}[url.scheme]
    port = f":{url.port}" if url.port not in (None, default_port) else ""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


class Adapter:
    """Push one notification to one browser subscription.

    Not idempotent: push services have no retry key, so a resend may show twice.
    """

    idempotent: bool = False
    max_recipients: int = 1

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._key = load_private_key(config.vapid_private_key.get_secret_value())
        self._public_key = public_key_b64(self._key)
        self._client = httpx.Client(timeout=config.timeout_seconds)

    def send(self, envelope: Envelope) -> Delivery:
        """Encrypt the content for the subscription in ``envelope.to[0]`` and push it."""
        try:
            check_content(envelope.content)
            if len(envelope.to) != 1:
                raise ContentError(f"a push goes to one subscription, got {len(envelope.to)}")
            subscription = parse_subscription(
                envelope.to[0], allow_http=self.config.allow_http_endpoints
            )
        except ContentError as exc:
            raise PermanentError(f"push refused: {exc}") from exc
        endpoint: str = subscription["endpoint"]
        encrypted = WebPusher(subscription).encode(payload_bytes(envelope.content), "aes128gcm")
        headers = {
            "Authorization": self._vapid_authorization(endpoint),
            "TTL": str(self.config.ttl_seconds),
            "Urgency": self.config.urgency,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
        try:
            response = self._client.post(
                endpoint, content=cast(bytes, encrypted["body"]), headers=headers
            )
        except httpx.TransportError as exc:
            raise error_for_transport(exc, provider="push service") from exc
        if response.status_code in (404, 410):
            raise PermanentError(
                f"push subscription is gone (HTTP {response.status_code}): "
                f"{response.text[:200].strip()}",
                status=response.status_code,
            )
        if not response.is_success:
            raise error_for_answer(response, provider="push service", now=self._clock())
        return Delivery(provider_message_id=response.headers.get("location"))

    def _vapid_authorization(self, endpoint: str) -> str:
        # A fresh dict each time: pywebpush's webpush() writes aud/exp into the claims it is
        # given, so a shared dict would carry the first endpoint's audience to every other.
        claims = {
            "aud": _origin(endpoint),
            "exp": int(self._clock()) + TOKEN_LIFETIME_SECONDS,
            "sub": self.config.vapid_subject,
        }
        token = cast(str, vapid_jwt.sign(claims, self._key))
        return f"vapid t={token}, k={self._public_key}"

    def close(self) -> None:
        """Close the push service connections."""
        self._client.close()
