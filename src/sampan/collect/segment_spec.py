"""Validate and normalise messages of Segment's HTTP Tracking API, by hand for speed.

The hot path avoids pydantic on purpose (shared/docs/PERFORMANCE.md: it halves ingest).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

MAX_EVENT_BYTES = 32 * 1024
MAX_REQUEST_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2500
MAX_ID_LENGTH = 255
# receivedAt, timestamp, originalTimestamp and a generated messageId, with JSON punctuation.
_SERVER_FIELDS_BYTES = 160

MESSAGE_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})
SOURCE_KINDS = ("web", "app", "pos", "line", "facebook", "email", "callcenter", "server")
CHANNELS = frozenset({*SOURCE_KINDS, "sms", "instagram", "push"})
# Segment's libraries describe where they run, not the business channel.
CHANNEL_ALIASES = {"browser": "web", "mobile": "app", "client": "web"}
_OBJECT_FIELDS = ("context", "properties", "traits", "integrations")
_REQUIRED_BY_TYPE = {"track": ("event",), "group": ("groupId",), "alias": ("previousId",)}


TrackChecks = Mapping[str, Callable[[Mapping[str, Any]], None]]


class MessageRejected(Exception):
    """A request that must be refused as a whole, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    """One validated, normalised message ready for the event log."""

    message_id: str
    type: str
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    channel: str
    timestamp_ms: int
    body: bytes


def parse_json(raw: bytes) -> Any:
    """Parse a request body, refusing anything that is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MessageRejected(400, f"invalid JSON: {exc}") from exc


def messages_of(payload: Any, *, endpoint_type: str | None) -> tuple[list[Any], dict[str, Any]]:
    """Return the raw messages in a request and the batch-level fields to merge into each."""
    if not isinstance(payload, dict):
        raise MessageRejected(400, "the request body must be a JSON object")
    if endpoint_type is not None:
        return [payload], {}
    batch = payload.get("batch")
    if not isinstance(batch, list):
        raise MessageRejected(400, "'batch' is required and must be an array of messages")
    if len(batch) > MAX_BATCH_EVENTS:
        raise MessageRejected(
            413, f"batch has {len(batch)} messages, over the limit of {MAX_BATCH_EVENTS}"
        )
    shared = {k: payload[k] for k in ("context", "integrations", "sentAt") if k in payload}
    for key in ("context", "integrations"):
        if key in shared and not isinstance(shared[key], dict):
            raise MessageRejected(400, f"batch-level '{key}' must be an object")
    return batch, shared


def normalise_messages(
    payload: Any,
    *,
    endpoint_type: str | None,
    source_kind: str,
    received_at: datetime,
    track_checks: TrackChecks | None = None,
) -> list[AcceptedMessage]:
    """Validate every message of a request and return them normalised.

    ``track_checks`` maps event names to checks of their properties that other domains own
    (e.g. the shape of ``Consent Updated``); a check raises ValueError with the reason.
    Raise MessageRejected on the first invalid message: a rejected request stores nothing.
    """
    raw_messages, shared = messages_of(payload, endpoint_type=endpoint_type)
    received_iso = _iso(received_at)
    accepted = []
    for index, message in enumerate(raw_messages):
        where = "message" if endpoint_type is not None else f"batch[{index}]"
        accepted.append(
            _normalise(
                message,
                where=where,
                endpoint_type=endpoint_type,
                shared=shared,
                source_kind=source_kind,
                received_at=received_at,
                received_iso=received_iso,
                track_checks=track_checks or {},
            )
        )
    return accepted


def _normalise(
    message: Any,
    *,
    where: str,
    endpoint_type: str | None,
    shared: dict[str, Any],
    source_kind: str,
    received_at: datetime,
    received_iso: str,
    track_checks: TrackChecks,
) -> AcceptedMessage:
    if not isinstance(message, dict):
        raise MessageRejected(400, f"{where}: each message must be a JSON object")
    msg = message  # parsed for this request only: normalised in place
    msg_type = endpoint_type or msg.get("type")
    if msg_type not in MESSAGE_TYPES:
        raise MessageRejected(
            400,
            f"{where}: 'type' must be one of {', '.join(sorted(MESSAGE_TYPES))}, got {msg_type!r}",
        )
    msg["type"] = msg_type
    for key in _OBJECT_FIELDS:
        value = msg.get(key)
        if value is not None and not isinstance(value, dict):
            raise MessageRejected(400, f"{where}: '{key}' must be an object")
    for key in ("context", "integrations"):
        if key in shared:
            msg[key] = {**shared[key], **(msg.get(key) or {})}
    user_id = _optional_id(msg, "userId", where)
    anonymous_id = _optional_id(msg, "anonymousId", where)
    if user_id is None and anonymous_id is None:
        raise MessageRejected(400, f"{where}: 'userId' or 'anonymousId' is required")
    for key in _REQUIRED_BY_TYPE.get(msg_type, ()):
        value = msg.get(key)
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
            raise MessageRejected(400, f"{where}: '{key}' is required for a {msg_type} message")
        msg[key] = str(value)
    name = msg.get("event") if msg_type == "track" else msg.get("name")
    if name is not None and not isinstance(name, str):
        raise MessageRejected(
            400, f"{where}: '{'event' if msg_type == 'track' else 'name'}' must be a string"
        )
    check = track_checks.get(name) if msg_type == "track" and name else None
    if check is not None:
        try:
            check(msg.get("properties") or {})
        except ValueError as exc:
            raise MessageRejected(400, f"{where}: {name}: {exc}") from None
    message_id = _optional_id(msg, "messageId", where) or str(uuid.uuid4())
    msg["messageId"] = message_id
    timestamp = _set_timestamps(msg, shared, where, received_at, received_iso)
    msg["receivedAt"] = received_iso
    msg.pop("writeKey", None)
    body = orjson.dumps(msg)
    # Measured once, on the stored form, allowing for the fields the server added.
    size = len(body) - _SERVER_FIELDS_BYTES
    if size > MAX_EVENT_BYTES:
        raise MessageRejected(
            413, f"{where}: message is {size} bytes, over the limit of {MAX_EVENT_BYTES} (32 KB)"
        )
    context = msg.get("context") or {}
    return AcceptedMessage(
        message_id=message_id,
        type=msg_type,
        name=name,
        user_id=user_id,
        anonymous_id=anonymous_id,
        channel=channel_of(msg.get("channel") or context.get("channel"), source_kind),
        timestamp_ms=int(timestamp.timestamp() * 1000),
        body=body,
    )


def server_track(
    *,
    name: str,
    message_id: str,
    subject: Mapping[str, Any],
    properties: dict[str, Any],
    source_kind: str,
    at: datetime,
) -> AcceptedMessage:
    """Return a track message the server itself emits, stored as ``normalise_messages`` would.

    For Sampan's own events (a message sent, opened, clicked): code builds their fields, no
    client sends them, so only the stored form is made and nothing is checked. ``subject``
    names the person: ``userId`` or ``anonymousId``, and optionally ``externalIds``.
    """
    iso = _iso(at)
    msg: dict[str, Any] = {
        "type": "track",
        "event": name,
        "messageId": message_id,
        "properties": properties,
    }
    msg.update((key, value) for key, value in subject.items() if key != "externalIds")
    external = subject.get("externalIds")
    if external:
        msg["context"] = {"externalIds": external}
    msg["originalTimestamp"] = msg["timestamp"] = msg["receivedAt"] = iso
    return AcceptedMessage(
        message_id=message_id,
        type="track",
        name=name,
        user_id=msg.get("userId"),
        anonymous_id=msg.get("anonymousId"),
        channel=source_kind,
        timestamp_ms=int(at.timestamp() * 1000),
        body=orjson.dumps(msg),
    )


def channel_of(raw: Any, source_kind: str) -> str:
    """Return the business channel: the message's ``channel`` when it names one, else the source's.

    Segment puts ``channel`` at the top level (``browser``, ``mobile``, ``server``); Sampan
    also reads ``context.channel`` so a client can say ``line`` or ``pos`` explicitly.
    """
    if isinstance(raw, str):
        value = CHANNEL_ALIASES.get(raw.lower(), raw.lower())
        if value in CHANNELS:
            return value
    return source_kind


def _optional_id(msg: dict[str, Any], key: str, where: str) -> str | None:
    value = msg.get(key)
    if type(value) is str and 0 < len(value) <= MAX_ID_LENGTH:
        return value  # the common case, checked first on the hot path
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MessageRejected(400, f"{where}: '{key}' must be a string")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise MessageRejected(400, f"{where}: '{key}' is longer than {MAX_ID_LENGTH} characters")
    msg[key] = text
    return text


def _set_timestamps(
    msg: dict[str, Any],
    shared: dict[str, Any],
    where: str,
    received_at: datetime,
    received_iso: str,
) -> datetime:
    """Set ``timestamp`` corrected for the client clock as Segment does; return it.

    Segment's rule: timestamp = receivedAt - (sentAt - originalTimestamp).
    """
    original = _parse_time(msg.get("timestamp") or msg.get("originalTimestamp"), "timestamp", where)
    sent_at = _parse_time(msg.get("sentAt") or shared.get("sentAt"), "sentAt", where)
    if original is None:
        msg["timestamp"] = received_iso
        return received_at
    msg["originalTimestamp"] = _iso(original)
    if sent_at is None:
        msg["timestamp"] = msg["originalTimestamp"]
        return original
    msg["sentAt"] = _iso(sent_at)
    corrected = received_at - (sent_at - original)
    msg["timestamp"] = _iso(corrected)
    return corrected


def _parse_time(value: Any, field: str, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MessageRejected(400, f"{where}: '{field}' must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MessageRejected(
            400, f"{where}: '{field}' is not an ISO 8601 date-time: {value!r}"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # Segment reads a zone-less timestamp as UTC.
    if parsed.year < 1970:
        raise MessageRejected(400, f"{where}: '{field}' is before 1970: {value!r}")
    return parsed


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
