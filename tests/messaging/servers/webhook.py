"""A receiver of Sampan's outgoing webhooks on loopback, written as we tell receivers to.

It verifies ``X-Sampan-Signature`` with :func:`sampan.messaging.channels.webhook.verify_signature`
and accepts each ``X-Sampan-Delivery`` once, answering a repeat with the first receipt.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from sampan.messaging.channels.webhook import verify_signature
from tests.messaging.servers import LoopbackServer, Request, Response


class WebhookReceiver:
    """Loopback receiver; ``accepted`` holds each delivery's JSON body once."""

    path = "/hooks/sampan"

    def __init__(self, *, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.clock = clock
        self.accepted: list[dict[str, Any]] = []
        # Every delivery id that arrived signed, repeats included.
        self.deliveries: list[str] = []
        self.refused: list[str] = []
        self._receipts: dict[str, str] = {}
        self._failures: list[tuple[int, dict[str, str]]] = []
        self._ids = itertools.count(1)
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url + self.path

    def fail_next(self, n: int = 1, status: int = 503, *, retry_after: str | None = None) -> None:
        headers = {"content-type": "application/json"}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        self._failures.extend((status, headers) for _ in range(n))

    def reset(self) -> None:
        """Forget every delivery, receipt and failure still planned."""
        self.accepted.clear()
        self.deliveries.clear()
        self.refused.clear()
        self._receipts.clear()
        self._failures.clear()
        self.server.requests.clear()
        self._ids = itertools.count(1)

    def start(self) -> WebhookReceiver:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, request: Request) -> Response:
        if request.path != self.path or request.method != "POST":
            return _json(404, {"error": "not found"})
        if self._failures:
            status, headers = self._failures.pop(0)
            return Response(status, b'{"error":"unavailable"}', headers)
        delivery = request.headers.get("x-sampan-delivery")
        timestamp = request.headers.get("x-sampan-timestamp")
        signature = request.headers.get("x-sampan-signature")
        if not delivery or not timestamp or not signature:
            self.refused.append("missing headers")
            return _json(400, {"error": "X-Sampan-Delivery, -Timestamp and -Signature required"})
        if not verify_signature(self.secret, request.body, timestamp, signature, now=self.clock()):
            self.refused.append(delivery)
            return _json(401, {"error": "bad or stale signature"})
        self.deliveries.append(delivery)
        if delivery in self._receipts:
            return _json(200, {"id": self._receipts[delivery], "duplicate": True})
        self.accepted.append(json.loads(request.body))
        receipt = f"rcv-{next(self._ids):06d}"
        self._receipts[delivery] = receipt
        return _json(200, {"id": receipt})


def _json(status: int, body: Any) -> Response:
    return Response(status, json.dumps(body, ensure_ascii=False).encode())
