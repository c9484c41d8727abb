"""The Graph API's Send endpoint on loopback: checks token, appsecret_proof and body shape.

Answers like Meta: ``{"recipient_id", "message_id"}`` or an error object with code,
subcode, type and fbtrace_id.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.messaging.servers import LoopbackServer, Request, Response

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
TAGS = ("POST_PURCHASE_UPDATE", "CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT")


@dataclass
class _Failure:
    status: int
    error: dict[str, Any]
    headers: dict[str, str]


class GraphApi:
    """Loopback Graph API; ``messages`` holds every accepted Send API body."""

    def __init__(
        self,
        *,
        page_access_token: str,
        app_secret: str,
        api_version: str = "v26.0",
        known_psids: Iterable[str] | None = None,
    ) -> None:
        self.page_access_token = page_access_token
        self.app_secret = app_secret
        self.path = f"/{api_version}/me/messages"
        self.known_psids = set(known_psids) if known_psids is not None else None
        self.messages: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self._traces = itertools.count(1)
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    def fail_next(
        self,
        n: int = 1,
        status: int = 400,
        *,
        code: int = 2,
        message: str = "An unexpected error has occurred. Please retry your request later.",
        subcode: int | None = None,
        error_type: str = "OAuthException",
        is_transient: bool | None = None,
        retry_after: str | None = None,
    ) -> None:
        error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        if is_transient is not None:
            error["is_transient"] = is_transient
        headers = {"content-type": "application/json"}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        self._failures.extend(_Failure(status, error, headers) for _ in range(n))

    def reset(self) -> None:
        """Forget what arrived and any failures still planned."""
        self.messages.clear()
        self._failures.clear()
        self.server.requests.clear()
        self._ids = itertools.count(1)
        self._traces = itertools.count(1)

    def start(self) -> GraphApi:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> GraphApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _error(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        headers: dict[str, str] | None = None,
        is_transient: bool | None = None,
    ) -> Response:
        error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        if is_transient is not None:
            error["is_transient"] = is_transient
        error["fbtrace_id"] = f"Trace{next(self._traces):04d}"
        body = json.dumps({"error": error}).encode()
        return Response(status, body, headers or {"content-type": "application/json"})

    def _handle(self, request: Request) -> Response:
        if request.path != self.path or request.method != "POST":
            return self._error(400, 100, f"Unsupported {request.method} request to {request.path}")
        if self._failures:
            failure = self._failures.pop(0)
            error = failure.error
            return self._error(
                failure.status,
                error["code"],
                error["message"],
                subcode=error.get("error_subcode"),
                error_type=error["type"],
                headers=failure.headers,
                is_transient=error.get("is_transient"),
            )
        query = {k: v[0] for k, v in parse_qs(request.query).items()}
        token = query.get("access_token")
        if token != self.page_access_token:
            return self._error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        proof = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if query.get("appsecret_proof") != proof:
            return self._error(400, 100, "Invalid appsecret_proof provided in the API argument")
        try:
            body = json.loads(request.body)
        except ValueError:
            return self._error(400, 100, "(#100) The parameter recipient is required")
        problem = _body_problem(body)
        if problem:
            return self._error(400, 100, f"(#100) {problem}")
        psid = body["recipient"]["id"]
        if self.known_psids is not None and psid not in self.known_psids:
            return self._error(400, 100, "(#100) No matching user found", subcode=2018001)
        self.messages.append(body)
        answer = {"recipient_id": psid, "message_id": f"m_{next(self._ids):08d}"}
        return Response(200, json.dumps(answer).encode())


def _body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "The parameter recipient is required"
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not isinstance(recipient.get("id"), str):
        return "The parameter recipient is required"
    kind = body.get("messaging_type")
    if kind not in MESSAGING_TYPES:
        return f"Param messaging_type must be one of {{{', '.join(MESSAGING_TYPES)}}}"
    if (kind == "MESSAGE_TAG") != ("tag" in body):
        return "Param tag is required with messaging_type MESSAGE_TAG, and only with it"
    if kind == "MESSAGE_TAG" and body["tag"] not in TAGS:
        return f"Param tag must be one of {{{', '.join(TAGS)}}}"
    message = body.get("message")
    if not isinstance(message, dict):
        return "The parameter message is required"
    if ("text" in message) == ("attachment" in message):
        return "Exactly one of message[text] and message[attachment] must be set"
    text = message.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > 2000):
        return "Length of param message[text] must be less than or equal to 2000"
    return None
