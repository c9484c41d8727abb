"""An HTTP SMS gateway on loopback, shaped like the common Thai ones.

It checks the configured auth and that the required fields arrived (JSON, form or query),
answers ``{"id": ...}`` (nested when ``id_path`` says so) and can fail on demand.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.messaging.servers import LoopbackServer, Request, Response


@dataclass
class _Failure:
    status: int
    body: bytes
    headers: dict[str, str]


class SmsGateway:
    """Loopback SMS gateway; ``messages`` holds the fields of every accepted request."""

    path = "/api/sms/send"

    def __init__(
        self,
        *,
        auth: Mapping[str, str] | None = None,
        body_format: str = "json",
        method: str = "POST",
        required: Sequence[str] = ("msisdn", "message"),
        id_path: str = "id",
    ) -> None:
        self.auth = auth
        self.body_format = body_format
        self.method = method
        self.required = tuple(required)
        self.id_path = id_path
        self.messages: list[dict[str, str]] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url + self.path

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        *,
        body: bytes = b'{"error":"service unavailable"}',
        retry_after: str | None = None,
    ) -> None:
        headers = {"content-type": "application/json"}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        self._failures.extend(_Failure(status, body, headers) for _ in range(n))

    def reset(self) -> None:
        """Forget what arrived and any failures still planned."""
        self.messages.clear()
        self._failures.clear()
        self.server.requests.clear()
        self._ids = itertools.count(1)

    def start(self) -> SmsGateway:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> SmsGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, request: Request) -> Response:
        if request.path != self.path:
            return _json(404, {"error": f"no route {request.path}"})
        if request.method != self.method:
            return _json(405, {"error": f"method {request.method} not allowed"})
        if self._failures:
            failure = self._failures.pop(0)
            return Response(failure.status, failure.body, failure.headers)
        if not self._authorised(request.headers):
            return _json(401, {"error": "invalid credentials"})
        fields = self._fields(request)
        if fields is None:
            return _json(400, {"error": f"body is not {self.body_format}"})
        missing = [name for name in self.required if not fields.get(name)]
        if missing:
            return _json(400, {"error": f"missing field {missing[0]}"})
        self.messages.append(fields)
        answer: Any = f"sms-{next(self._ids):06d}"
        for key in reversed(self.id_path.split(".")):
            answer = {key: answer}
        return _json(200, {**answer, "status": "accepted"})

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if self.auth is None:
            return True
        if self.auth["type"] == "bearer":
            return headers.get("authorization") == f"Bearer {self.auth['token']}"
        if self.auth["type"] == "basic":
            pair = f"{self.auth['username']}:{self.auth['password']}".encode()
            return headers.get("authorization") == "Basic " + base64.b64encode(pair).decode()
        return headers.get(self.auth["name"].lower()) == self.auth["value"]

    def _fields(self, request: Request) -> dict[str, str] | None:
        if self.method == "GET":
            return {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        content_type = request.headers.get("content-type", "")
        if self.body_format == "json":
            if not content_type.startswith("application/json"):
                return None
            try:
                body = json.loads(request.body)
            except ValueError:
                return None
            if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
                return None
            return body
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return None
        parsed = parse_qs(request.body.decode(), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}


def _json(status: int, body: Any) -> Response:
    return Response(status, json.dumps(body, ensure_ascii=False).encode())
