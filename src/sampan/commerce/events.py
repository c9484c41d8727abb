"""Tracking events commerce writes into the event log, so profiles and journeys see them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sampan.collect import service as collect
from sampan.identity import service as identity

SOURCE_NAME = "commerce"


@dataclass(frozen=True)
class Emitted:
    """One event for a person (by profile) or a visitor (by the identifier they came with)."""

    name: str
    properties: dict[str, Any]
    profile_id: str | None = None
    visitor: str | None = None


def emit(session: Session, events: Sequence[Emitted], now: datetime) -> None:
    """Write the events in this transaction; they reach profiles through the pipeline."""
    known = sorted({e.profile_id for e in events if e.profile_id is not None})
    subjects = identity.subjects_of(session, profile_ids=known) if known else {}
    payloads = []
    for event in events:
        who = subjects.get(event.profile_id or "") or _visitor_fields(event.visitor)
        if not who:
            continue
        payload = {"type": "track", "event": event.name, "properties": event.properties, **who}
        channel = event.properties.get("channel")
        if isinstance(channel, str):
            # The business channel (app, pos, line...) rather than this server source's.
            payload["channel"] = channel
        payloads.append(payload)
    collect.track_for_domain(session, source_name=SOURCE_NAME, payloads=payloads, now=now)


def _visitor_fields(visitor: str | None) -> dict[str, Any]:
    if not visitor:
        return {}
    kind, _, value = visitor.partition(":")
    if kind == "anonymous_id":
        return {"anonymousId": value}
    if kind == "user_id":
        return {"userId": value}
    return {"context": {"externalIds": [{"type": kind, "id": value}]}}
