"""HTTP routes of collect: Segment's tracking API under /v1 and sources under /api/sources."""

from __future__ import annotations

import asyncio
import base64
import binascii
import zlib
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from sampan.collect import service
from sampan.collect.ingest import IngestWriter
from sampan.collect.schemas import IssuedSource, SourceCreate, SourceInfo, SourceUpdate
from sampan.collect.segment_spec import MAX_REQUEST_BYTES, MessageRejected, parse_json
from sampan.core.clock import Clock, to_ms
from sampan.core.credentials import CredentialCache
from sampan.core.errors import Unauthorized
from sampan.db.engine import Database
from sampan.db.requests import database

tracking_router = APIRouter(prefix="/v1", tags=["tracking"])
log = structlog.get_logger("sampan.collect")
sources_router = APIRouter(prefix="/api/sources", tags=["sources"])


@dataclass
class CollectRuntime:
    """What the tracking routes need: the group-commit writer, the key cache, a clock."""

    writer: IngestWriter
    keys: CredentialCache[SourceInfo]
    clock: Clock


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
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Accepted and durable",
        "content": {"application/json": {"example": {"success": True}}},
    },
    400: {"description": "Invalid JSON or message; the message names the field and index"},
    401: {"description": "Missing, invalid or disabled write key"},
    413: {"description": "Over 32 KB per message, 500 KB per request or 2,500 messages"},
    503: {"description": "Storage failed; nothing was stored, retry"},
}


def _json(
    data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def _runtime(request: Request) -> CollectRuntime:
    runtime = request.app.state.collect
    assert isinstance(runtime, CollectRuntime)
    return runtime


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise MessageRejected(413, f"request is {declared} bytes, over the 500 KB limit")
    raw = await request.body()
    if len(raw) > MAX_REQUEST_BYTES:
        raise MessageRejected(413, f"request is {len(raw)} bytes, over the 500 KB limit")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, MAX_REQUEST_BYTES + 1)
        except zlib.error as exc:
            raise MessageRejected(400, f"body is not valid gzip: {exc}") from exc
        if len(raw) > MAX_REQUEST_BYTES or inflater.unconsumed_tail:
            raise MessageRejected(413, "decompressed request is over the 500 KB limit")
    return raw


def _header_write_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    return request.headers.get("x-write-key") or None


async def _ingest(request: Request, endpoint_type: str | None) -> Response:
    runtime = _runtime(request)
    try:
        raw = await _read_body(request)
        write_key = _header_write_key(request)
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
        messages = service.normalise_messages(
            payload, endpoint_type=endpoint_type, source_kind=source.kind, received_at=received_at
        )
    except MessageRejected as exc:
        code = "payload_too_large" if exc.status == 413 else "bad_request"
        return _json({"success": False, "code": code, "message": exc.message}, exc.status)
    except Unauthorized as exc:
        return _json(
            {"success": False, "code": "unauthorized", "message": exc.message},
            401,
            {"WWW-Authenticate": 'Basic realm="sampan"'},
        )
    done = runtime.writer.submit(
        source_id=source.id, messages=messages, received_ms=to_ms(received_at)
    )
    try:
        await asyncio.wrap_future(done)
    except Exception:  # noqa: BLE001 - the client must retry; nothing was stored
        log.exception("storing a tracking request failed")
        return _json(
            {"success": False, "code": "unavailable", "message": "storage failed; retry later"},
            503,
            {"Retry-After": "1"},
        )
    return _json({"success": True})


def _tracking_route(path: str, endpoint_type: str | None, summary: str) -> None:
    schema = _BATCH_SCHEMA if endpoint_type is None else _MESSAGE_SCHEMA

    async def route(request: Request) -> Response:
        return await _ingest(request, endpoint_type)

    tracking_router.add_api_route(
        path,
        route,
        methods=["POST"],
        summary=summary,
        responses=_RESPONSES,
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}
        },
        name=f"tracking_{path.strip('/') or 'root'}",
    )


for _type in ("track", "identify", "page", "screen", "group", "alias"):
    _tracking_route(f"/{_type}", _type, f"Record a Segment {_type} message")
    # analytics.js posts single messages to /v1/t, /v1/i, /v1/p, /v1/s, /v1/g, /v1/a.
    _tracking_route(f"/{_type[0]}", _type, f"Record a Segment {_type} message (short alias)")
_tracking_route("/batch", None, "Record a batch of Segment messages")
_tracking_route("/b", None, "Record a batch of Segment messages (short alias)")


@sources_router.get("", response_model=list[SourceInfo], summary="List sources")
def list_sources(db: Annotated[Database, Depends(database)]) -> list[SourceInfo]:
    """List every source; write keys are never shown again."""
    with db.reading() as session:
        return service.list_sources(session)


@sources_router.post("", response_model=IssuedSource, status_code=201, summary="Create a source")
def create_source(body: SourceCreate, db: Annotated[Database, Depends(database)]) -> IssuedSource:
    """Create a source; the response holds its write key, shown only this once."""
    with db.transaction() as session:
        return service.create_source(session, name=body.name, kind=body.kind)


@sources_router.patch("/{source_id}", response_model=SourceInfo, summary="Enable or disable")
def update_source(
    source_id: str,
    body: SourceUpdate,
    request: Request,
    db: Annotated[Database, Depends(database)],
) -> SourceInfo:
    """Enable or disable a source; a disabled source's key is refused at once."""
    with db.transaction() as session:
        info = service.set_source_enabled(session, source_id=source_id, enabled=body.enabled)
    _runtime(request).keys.clear()
    return info
