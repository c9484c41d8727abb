"""The playbooks shipped with Sampan: journeys and their Thai and English templates as JSON.

A playbook names channels by kind (``$line``, ``$email``, ``$sms``) and segments by their
ready-made key (``$segment:vip_by_spend``); installing one maps those to the workspace's
channels and segments, creates the templates it lacks and saves the journey as a draft.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from sampan.core.errors import InvalidInput, NotFound
from sampan.journeys.schemas import JourneyEnv, PlaybookInstall, PlaybookOut
from sampan.messaging import service as messaging
from sampan.messaging.schemas import TemplateInput
from sampan.segments import service as segments

CHANNEL_KINDS = {"$line": "line", "$email": "email", "$sms": "sms"}
SEGMENT_PREFIX = "$segment:"


@dataclass(frozen=True)
class Playbook:
    """One shipped playbook, as its file holds it."""

    key: str
    name: str
    description: str
    templates: list[dict[str, Any]]
    definition: dict[str, Any]

    def out(self) -> PlaybookOut:
        """Return the playbook as the API lists it."""
        return PlaybookOut(
            key=self.key,
            name=self.name,
            description=self.description,
            entry=str(self.definition["entry"]["type"]),
            nodes=len(self.definition["nodes"]),
            templates=[str(t["name"]) for t in self.templates],
            channels=_unique(
                CHANNEL_KINDS.get(str(channel), str(channel))
                for node in self.definition["nodes"]
                if node["type"] == "send"
                for channel in node["channels"]
            ),
            events=_unique(_event_names(self.definition)),
        )


@functools.cache
def playbooks() -> dict[str, Playbook]:
    """Return every shipped playbook by key."""
    found = {}
    folder = resources.files("sampan.journeys").joinpath("playbooks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        found[data["key"]] = Playbook(
            key=data["key"],
            name=data["name"],
            description=data["description"],
            templates=data["templates"],
            definition=data["definition"],
        )
    return found


def playbook(key: str) -> Playbook:
    """Return one playbook, or raise NotFound listing the keys there are."""
    found = playbooks().get(key)
    if found is None:
        raise NotFound(f"no playbook {key!r}; there are: {', '.join(sorted(playbooks()))}")
    return found


def prepare(
    session: Session, *, book: Playbook, data: PlaybookInstall, env: JourneyEnv
) -> dict[str, Any]:
    """Create what the playbook needs and return its definition for this workspace."""
    names = _channel_names(session, {str(k): v for k, v in data.channels.items()}, env)
    keys = sorted(_segment_keys(book.definition))
    ids = segments.ensure_ready_made(session, keys=keys, context=env.segment_context())
    definition: dict[str, Any] = _replace_segments(book.definition, ids)
    for i, node in enumerate(definition["nodes"]):
        if node["type"] != "send":
            continue
        wanted = [CHANNEL_KINDS.get(c, c) for c in node["channels"]]
        chosen = [names[kind] for kind in wanted if kind in names]
        if not chosen:
            raise InvalidInput(
                f"nodes[{i}] ({node['id']}) sends on {' or '.join(wanted)}, and the workspace "
                "has no such channel: add one in /api/messaging/channels, or map one with "
                "channels"
            )
        node["channels"] = chosen
    existing = {t.name for t in messaging.list_templates(session)}
    for template in book.templates:
        if template["name"] not in existing:
            messaging.save_template(
                session, data=TemplateInput.model_validate(template), rules=env.messaging
            )
    return definition


def _unique(values: Iterable[str]) -> list[str]:
    """Return the values without repeats, in the order they first came."""
    return list(dict.fromkeys(values))


def _event_names(definition: Mapping[str, Any]) -> Iterator[str]:
    """Yield the event names a definition reacts to: entry, waits, goal and exit events."""
    entry = definition["entry"]
    if entry["type"] == "event":
        yield str(entry["event"])
    for node in definition["nodes"]:
        if node["type"] == "wait_for_event":
            yield str(node["event"])
    goal = definition.get("goal")
    if goal:
        yield str(goal["event"])
    yield from (str(name) for name in (definition.get("exit") or {}).get("events", []))


def _channel_names(session: Session, mapping: Mapping[str, str], env: JourneyEnv) -> dict[str, str]:
    """Return a channel name per kind: the mapping's, else the first of that kind."""
    channels = messaging.list_channels(session, rules=env.messaging)
    kind_of = {c.name: c.kind for c in channels}
    names: dict[str, str] = {}
    for channel in sorted(channels, key=lambda c: c.name):
        names.setdefault(channel.kind, channel.name)
    for kind, name in mapping.items():
        if kind_of.get(name) != kind:
            raise InvalidInput(f"channels.{kind}: no {kind} channel named {name!r}")
        names[kind] = name
    return names


def _segment_keys(value: Any) -> set[str]:
    if isinstance(value, str) and value.startswith(SEGMENT_PREFIX):
        return {value.removeprefix(SEGMENT_PREFIX)}
    if isinstance(value, Mapping):
        return set().union(*(_segment_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_segment_keys(v) for v in value))
    return set()


def _replace_segments(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith(SEGMENT_PREFIX):
        return ids[value.removeprefix(SEGMENT_PREFIX)]
    if isinstance(value, Mapping):
        return {k: _replace_segments(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_segments(v, ids) for v in value]
    return value
