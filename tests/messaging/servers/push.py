"""A Web Push service on loopback, doing what a real one does with a push request.

It verifies the VAPID ``Authorization: vapid t=<jwt>, k=<key>`` header (ES256 signature,
``aud`` equal to its origin, ``exp`` in the future and at most 24 hours ahead, ``k`` equal to
the key the browser subscribed with), then decrypts the aes128gcm body with the browser's
private key and auth secret, as the browser would, and stores the plaintext.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt as vapid_jwt

from tests.messaging.servers import LoopbackServer, Request, Response

URGENCIES = ("very-low", "low", "normal", "high")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class BrowserSubscription:
    """What a browser holds after ``PushManager.subscribe()``: keys and the endpoint."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str

    @property
    def json(self) -> str:
        """``PushSubscription.toJSON()``, what the browser posts to the site."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        keys = {"p256dh": b64url(public), "auth": b64url(self.auth_secret)}
        return json.dumps({"endpoint": self.endpoint, "expirationTime": None, "keys": keys})


@dataclass(frozen=True)
class Push:
    """One push the service accepted, decrypted."""

    subscription_id: str
    payload: bytes
    ttl: int
    urgency: str | None
    claims: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class PushService:
    """Loopback push service; ``received`` holds every accepted push, decrypted."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.received: list[Push] = []
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._gone: set[str] = set()
        self._failures: list[tuple[int, dict[str, str]]] = []
        self._ids = itertools.count(1)
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    def subscribe(self, application_server_key: str) -> BrowserSubscription:
        """Create a browser subscription for a site's VAPID public key: P-256 pair + auth."""
        sub_id = b64url(os.urandom(12))
        subscription = BrowserSubscription(
            id=sub_id,
            endpoint=f"{self.url}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
            application_server_key=application_server_key,
        )
        self._subscriptions[sub_id] = subscription
        return subscription

    def unsubscribe(self, subscription: BrowserSubscription) -> None:
        """The browser dropped the subscription: later pushes to it answer 410 Gone."""
        self._gone.add(subscription.id)

    def fail_next(self, n: int = 1, status: int = 503, *, retry_after: str | None = None) -> None:
        headers = {"content-type": "text/plain"}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        self._failures.extend((status, headers) for _ in range(n))

    def reset(self) -> None:
        """Forget what arrived, failures still planned and unsubscriptions."""
        self.received.clear()
        self._failures.clear()
        self._gone.clear()
        self.server.requests.clear()
        self._ids = itertools.count(1)

    def start(self) -> PushService:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> PushService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, request: Request) -> Response:
        found = re.fullmatch(r"/push/([A-Za-z0-9_-]+)", request.path)
        if request.method != "POST" or not found:
            return _text(404, "no such endpoint")
        sub_id = found.group(1)
        subscription = self._subscriptions.get(sub_id)
        if subscription is None:
            return _text(404, "subscription not found")
        if sub_id in self._gone:
            return _text(410, "push subscription has unsubscribed or expired")
        if self._failures:
            status, headers = self._failures.pop(0)
            return Response(status, b"try later", headers)
        claims_or_error = self._check_vapid(request.headers.get("authorization", ""), subscription)
        if isinstance(claims_or_error, Response):
            return claims_or_error
        ttl = request.headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            return _text(400, "missing or invalid TTL header")
        urgency = request.headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            return _text(400, f"invalid Urgency {urgency}")
        if request.headers.get("content-encoding") != "aes128gcm":
            return _text(415, "Content-Encoding must be aes128gcm")
        if len(request.body) > 4096:
            return _text(413, "payload too large")
        try:
            payload = http_ece.decrypt(
                request.body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth_secret,
                version="aes128gcm",
            )
        except http_ece.ECEException as exc:
            return _text(400, f"cannot decrypt: {exc.message}")
        self.received.append(
            Push(sub_id, payload, int(ttl), urgency, claims_or_error, dict(request.headers))
        )
        location = f"{self.url}/message/{next(self._ids):06d}"
        return Response(201, b"", {"location": location})

    def _check_vapid(
        self, authorization: str, subscription: BrowserSubscription
    ) -> dict[str, Any] | Response:
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            return _text(401, "Authorization must use the vapid scheme")
        parts = dict(item.strip().split("=", 1) for item in params.split(",") if "=" in item)
        token, key = parts.get("t"), parts.get("k")
        if not token or not key:
            return _text(401, "vapid authorization needs t and k")
        if key != subscription.application_server_key:
            return _text(403, "VAPID key differs from the subscription's applicationServerKey")
        try:
            claims: dict[str, Any] = vapid_jwt.decode(token, key)
        except InvalidSignature:
            return _text(401, "VAPID token signature is invalid")
        now = self.clock()
        if claims.get("aud") != self.url:
            return _text(401, f"VAPID aud {claims.get('aud')!r} is not {self.url!r}")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= now or exp > now + 86400:
            return _text(401, "VAPID exp must be in the future and within 24 hours")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            return _text(401, "VAPID sub must be a mailto: or https: contact")
        return claims


def _text(status: int, text: str) -> Response:
    return Response(status, text.encode(), {"content-type": "text/plain"})
