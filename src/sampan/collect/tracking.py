"""Segment's tracking API under /v1, served as a lean ASGI endpoint in front of the app.

The hot path skips FastAPI's routing, dependency and middleware layers, which cost as much
as validating the messages (docs/benchmarks.md); the management API stays on FastAPI.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from sampan.collect.ingest import IngestWriter
from sampan.collect.schemas import SourceInfo
from sampan.collect.segment_spec import (
    MAX_REQUEST_BYTES,
    MessageRejected,
    TrackChecks,
    normalise_messages,
    parse_json,
)
from sampan.core.clock import Clock, to_ms
from sampan.core.credentials import CredentialCache
from sampan.core.errors import Unauthorized

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = structlog.get_logger("sampan.collect")

_TYPES = ("track", "identify", "page", "screen", "group", "alias")
# analytics.js posts single messages to /v1/t, /v1/i, /v1/p, /v1/s, /v1/g, /v1/a.
TRACKING_PATHS: dict[str, str | None] = {
    **{f"/v1/{t}": t for t in _TYPES},
    **{f"/v1/{t[0]}": t for t in _TYPES},
    "/v1/batch": None,
    "/v1/b": None,
}


@dataclass
class CollectRuntime:
    """What the tracking endpoint needs: the group-commit writer, the key cache, a clock."""

    writer: IngestWriter
    keys: CredentialCache[SourceInfo]
    clock: Clock
    track_checks: TrackChecks = field(default_factory=dict)


class TrackingEndpoint:
    """Answer ``POST /v1/...`` itself and hand every other request to ``app``."""

    def __init__(self, app: ASGIApp, runtime: CollectRuntime, cors_origins: list[str]) -> None:
        self.app = app
        self.runtime = runtime
        self._any_origin = "*" in cors_origins
        self._origins = {origin.encode() for origin in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in TRACKING_PATHS
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            status, body, extra = await self._ingest(
                headers, receive, TRACKING_PATHS[scope["path"]]
            )
        except Exception:  # noqa: BLE001 - answer in the API's shape, never a bare 500
            log.exception("tracking request failed")
            status, body, extra = 500, _error("internal", "internal error; retry later"), []
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        origin = headers.get(b"origin")
        if origin is not None and (self._any_origin or origin in self._origins):
            response_headers.append(
                (b"access-control-allow-origin", b"*" if self._any_origin else origin)
            )
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    async def _ingest(
        self, headers: dict[bytes, bytes], receive: Receive, endpoint_type: str | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        runtime = self.runtime
        try:
            raw = await _read_body(headers, receive)
            write_key = _header_write_key(headers)
            payload = parse_json(raw)
            if write_key is None and isinstance(payload, dict):
                body_key = payload.get("writeKey")
                write_key = body_key if isinstance(body_key, str) and body_key else None
            if write_key is None:
                raise Unauthorized(
                    "write key required: HTTP Basic user name, X-Write-Key header or writeKey"
                )
            source = runtime.keys.authenticate(write_key)
            received_at = runtime.clock()
            messages = normalise_messages(
                payload,
                endpoint_type=endpoint_type,
                source_kind=source.kind,
                received_at=received_at,
                track_checks=runtime.track_checks,
            )
        except MessageRejected as exc:
            code = "payload_too_large" if exc.status == 413 else "bad_request"
            return exc.status, _error(code, exc.message), []
        except Unauthorized as exc:
            return (
                401,
                _error("unauthorized", exc.message),
                [(b"www-authenticate", b'Basic realm="sampan"')],
            )
        done = runtime.writer.submit(
            source_id=source.id, messages=messages, received_ms=to_ms(received_at)
        )
        try:
            await asyncio.wrap_future(done)
        except Exception:  # noqa: BLE001 - the client must retry; nothing was stored
            log.exception("storing a tracking request failed")
            return (
                503,
                _error("unavailable", "storage failed; retry later"),
                [(b"retry-after", b"1")],
            )
        return 200, b'{"success":true}', []


def _error(code: str, message: str) -> bytes:
    return orjson.dumps({"success": False, "code": code, "message": message})


async def _read_body(headers: dict[bytes, bytes], receive: Receive) -> bytes:
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise MessageRejected(413, f"request is {declared.decode()} bytes, over the 500 KB limit")
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise MessageRejected(413, f"request is over the 500 KB limit ({size}+ bytes)")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if headers.get(b"content-encoding", b"").lower() == b"gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, MAX_REQUEST_BYTES + 1)
        except zlib.error as exc:
            raise MessageRejected(400, f"body is not valid gzip: {exc}") from exc
        if len(raw) > MAX_REQUEST_BYTES or inflater.unconsumed_tail:
            raise MessageRejected(413, "decompressed request is over the 500 KB limit")
    return raw


def _header_write_key(headers: dict[bytes, bytes]) -> str | None:
    auth = headers.get(b"authorization", b"")
    if auth[:6].lower() == b"basic ":
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    key = headers.get(b"x-write-key")
    return key.decode() if key else None


_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A Segment message (https://segment.com/docs/connections/spec/).",
    "properties": {
        "type": {
            "type": "string",
            "enum": ["track", "identify", "page", "screen", "group", "alias"],
        },
        "userId": {"type": "string"},
        "anonymousId": {"type": "string"},
        "messageId": {"type": "string"},
        "event": {"type": "string"},
        "name": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
        "context": {"type": "object"},
        "properties": {"type": "object"},
        "traits": {"type": "object"},
        "groupId": {"type": "string"},
        "previousId": {"type": "string"},
        "writeKey": {"type": "string"},
    },
}
_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "maxItems": 2500, "items": _MESSAGE_SCHEMA},
        "context": {"type": "object"},
        "integrations": {"type": "object"},
        "sentAt": {"type": "string", "format": "date-time"},
        "writeKey": {"type": "string"},
    },
}
_RESPONSES: dict[int, dict[str, Any]] = {
    200: {"description": "Accepted and durable"},
    400: {"description": "Invalid JSON or message; the message names the field and index"},
    401: {"description": "Missing, invalid or disabled write key"},
    413: {"description": "Over 32 KB per message, 500 KB per request or 2,500 messages"},
    503: {"description": "Storage failed; nothing was stored, retry"},
}


def tracking_openapi() -> dict[str, Any]:
    """Return the OpenAPI path items of the tracking endpoints."""
    paths: dict[str, Any] = {}
    for path, endpoint_type in TRACKING_PATHS.items():
        what = f"a Segment {endpoint_type} message" if endpoint_type else "a batch of messages"
        short = " (short alias)" if len(path) <= len("/v1/b") else ""
        schema = _BATCH_SCHEMA if endpoint_type is None else _MESSAGE_SCHEMA
        paths[path] = {
            "post": {
                "tags": ["tracking"],
                "summary": f"Record {what}{short}",
                "operationId": f"tracking_{path.rsplit('/', 1)[1]}",
                "security": [{"HTTPBasic": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
                "responses": {
                    str(status): {
                        **spec,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/TrackingAnswer"}
                            }
                        },
                    }
                    for status, spec in _RESPONSES.items()
                },
            }
        }
    return paths


TRACKING_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["success"],
    "properties": {
        "success": {"type": "boolean"},
        "code": {
            "type": "string",
            "enum": ["bad_request", "payload_too_large", "unauthorized", "unavailable", "internal"],
        },
        "message": {"type": "string"},
    },
}
