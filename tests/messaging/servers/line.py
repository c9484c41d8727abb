"""LINE Messaging API on loopback: push, multicast and reply, answered the way LINE does.

``accepted`` holds one entry per (recipient, request) LINE would have delivered, so tests can
count what customers received. Run standalone for benchmarks in another process::

    python -m tests.messaging.servers.line --port 8190 --token T

It prints ``ready`` once listening and serves until killed; ``GET /__loopback__/stats`` and
``GET /__loopback__/accepted`` report what it accepted.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

import orjson

from tests.messaging.servers import LoopbackServer, Request, Response

MAX_MULTICAST = 500
_ROUTES = {
    "/v2/bot/message/push": "push",
    "/v2/bot/message/multicast": "multicast",
    "/v2/bot/message/reply": "reply",
}
_QUOTABLE = frozenset({"text", "sticker"})
_DEFAULT_ERRORS = {
    400: "The request body has 1 error(s)",
    401: "Authentication failed. Confirm that the access token in the authorization header "
    "is valid.",
    403: "The bot is not allowed to send messages to this user",
    429: "The API rate limit has been exceeded. Try again later.",
    500: "Internal server error",
    503: "Service unavailable",
}
_JSON = "application/json"


class LineApiServer:
    """A LINE Messaging API stand-in; start() runs it on 127.0.0.1 in a thread."""

    def __init__(
        self,
        *,
        token: str = "test-channel-access-token",
        port: int | None = None,
        reply_tokens: Mapping[str, str] | None = None,
        record_requests: bool = True,
    ) -> None:
        self.token = token
        self.accepted: list[dict[str, Any]] = []
        self.request_count = 0
        self._authorization = f"Bearer {token}"
        self._lock = threading.Lock()
        # retry key -> (request id, sentMessages of the accepted request)
        self._retry_keys: dict[str, tuple[str, list[dict[str, str]]]] = {}
        # reply token -> user id of the chat it belongs to
        self._reply_tokens: dict[str, str] = dict(reply_tokens or {})
        self._failures: deque[tuple[int, float | None, str | None]] = deque()
        self._message_ids = itertools.count(480_000_000_000_000)
        self._loopback = LoopbackServer(self.handle, port=port, record=record_requests)

    @property
    def url(self) -> str:
        """Return the base URL to give the adapter as ``api_base``."""
        return self._loopback.url

    @property
    def requests(self) -> list[Request]:
        """Return every request received, in order."""
        return self._loopback.requests

    def start(self) -> LineApiServer:
        """Listen until stop()."""
        self._loopback.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._loopback.stop()

    def __enter__(self) -> LineApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget everything received, accepted and configured, as if freshly started."""
        with self._lock:
            self.accepted.clear()
            self.request_count = 0
            self._retry_keys.clear()
            self._reply_tokens.clear()
            self._failures.clear()
            self._loopback.requests.clear()

    def allow_reply_token(self, reply_token: str, user_id: str) -> None:
        """Make ``reply_token`` valid, once, for a reply to ``user_id``."""
        with self._lock:
            self._reply_tokens[reply_token] = user_id

    def fail_next(
        self, n: int, status: int, *, retry_after: float | None = None, message: str | None = None
    ) -> None:
        """Answer the next ``n`` authenticated send requests with ``status`` and nothing sent."""
        with self._lock:
            self._failures.extend([(status, retry_after, message)] * n)

    def handle(self, request: Request) -> Response:
        """Answer one request as the LINE Messaging API would."""
        with self._lock:
            self.request_count += 1
            if request.method == "GET" and request.path.startswith("/__loopback__/"):
                return self._report(request.path)
            endpoint = _ROUTES.get(request.path)
            if endpoint is None:
                return _error(404, "Not found")
            if request.method != "POST":
                return _error(405, "Method not allowed")
            if request.headers.get("authorization") != self._authorization:
                return _error(401, _DEFAULT_ERRORS[401])
            if self._failures:
                return self._fail()
            if not request.headers.get("content-type", "").startswith(_JSON):
                return _error(415, "Content-Type must be application/json")
            try:
                body = orjson.loads(request.body)
            except orjson.JSONDecodeError:
                return _error(400, "The request body has 1 error(s)", [("", "Invalid JSON")])
            problems = _problems(endpoint, body)
            if problems:
                return _error(400, f"The request body has {len(problems)} error(s)", problems)
            if endpoint == "reply":
                return self._reply(body)
            return self._send(endpoint, body, request.headers.get("x-line-retry-key"))

    def _send(self, endpoint: str, body: dict[str, Any], retry_key: str | None) -> Response:
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return _error(400, "The retry key must be a UUID")
            previous = self._retry_keys.get(retry_key)
            if previous is not None:
                request_id, sent = previous
                answer: dict[str, Any] = {"message": "The retry key is already accepted"}
                if endpoint == "push":
                    answer["sentMessages"] = sent
                return _response(
                    409,
                    answer,
                    {
                        "x-line-request-id": str(uuid.uuid4()),
                        "x-line-accepted-request-id": request_id,
                    },
                )
        recipients = [body["to"]] if endpoint == "push" else list(body["to"])
        request_id, sent = self._accept(endpoint, recipients, body["messages"], retry_key)
        if retry_key is not None:
            self._retry_keys[retry_key] = (request_id, sent)
        answer = {"sentMessages": sent} if endpoint == "push" else {}
        return _response(200, answer, {"x-line-request-id": request_id})

    def _reply(self, body: dict[str, Any]) -> Response:
        # A reply token works once: LINE refuses it after the first reply or when it expired.
        user_id = self._reply_tokens.pop(body["replyToken"], None)
        if user_id is None:
            return _error(400, "Invalid reply token")
        request_id, sent = self._accept("reply", [user_id], body["messages"], None)
        return _response(200, {"sentMessages": sent}, {"x-line-request-id": request_id})

    def _accept(
        self, endpoint: str, recipients: list[str], messages: list[Any], retry_key: str | None
    ) -> tuple[str, list[dict[str, str]]]:
        request_id = str(uuid.uuid4())
        sent: list[dict[str, str]] = []
        for message in messages:
            entry = {"id": str(next(self._message_ids))}
            if message["type"] in _QUOTABLE:
                entry["quoteToken"] = f"q{entry['id']}"
            sent.append(entry)
        for user_id in recipients:
            self.accepted.append(
                {
                    "endpoint": endpoint,
                    "to": user_id,
                    "messages": messages,
                    "request_id": request_id,
                    "retry_key": retry_key,
                }
            )
        return request_id, sent

    def _fail(self) -> Response:
        status, retry_after, message = self._failures.popleft()
        headers = {"x-line-request-id": str(uuid.uuid4())}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        text = message or _DEFAULT_ERRORS.get(status, "Error")
        return _response(status, {"message": text}, headers)

    def _report(self, path: str) -> Response:
        if path == "/__loopback__/stats":
            stats = {"accepted": len(self.accepted), "requests": self.request_count}
            return _response(200, stats, {})
        if path == "/__loopback__/accepted":
            return _response(200, {"accepted": self.accepted}, {})
        return _error(404, "Not found")


def _problems(endpoint: str, body: Any) -> list[tuple[str, str]]:
    """Return (property, message) for each way ``body`` breaks LINE's request shape."""
    if not isinstance(body, dict):
        return [("", "The request body must be a JSON object")]
    problems: list[tuple[str, str]] = []
    if endpoint == "push":
        if not isinstance(body.get("to"), str) or not body["to"]:
            problems.append(("to", "Must be specified"))
    elif endpoint == "multicast":
        to = body.get("to")
        if not isinstance(to, list) or not 1 <= len(to) <= MAX_MULTICAST:
            problems.append(("to", f"Size must be between 1 and {MAX_MULTICAST}"))
        elif not all(isinstance(user, str) and user for user in to):
            problems.append(("to", "Must be a list of user IDs"))
    elif not isinstance(body.get("replyToken"), str) or not body["replyToken"]:
        problems.append(("replyToken", "Must be specified"))
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        problems.append(("messages", "Size must be between 1 and 5"))
        return problems
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            problems.append((f"messages[{index}].type", "Must be specified"))
        elif message["type"] == "text" and not message.get("text"):
            problems.append((f"messages[{index}].text", "Must be specified"))
    return problems


def _response(status: int, body: Any, headers: dict[str, str]) -> Response:
    headers["content-type"] = _JSON
    return Response(status=status, body=orjson.dumps(body), headers=headers)


def _error(status: int, message: str, details: list[tuple[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = [{"message": text, "property": prop} for prop, text in details]
    return _response(status, body, {})


def _serve_forever(port: int, token: str) -> None:
    LineApiServer(token=token, port=port, record_requests=False).start()
    print("ready", flush=True)  # noqa: T201 - the parent process waits for this line
    threading.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="LINE Messaging API loopback server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default="test-channel-access-token")
    args = parser.parse_args(argv)
    _serve_forever(args.port, args.token)


if __name__ == "__main__":
    main()
