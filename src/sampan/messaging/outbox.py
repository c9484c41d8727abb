"""Writing messages to the outbox: choose the channel, render, apply policies, keyed once.

Everything a send depends on is decided here, in the caller's transaction, before any
provider is called: the channel (first preferred one the person has an address, content and
permission for), the rendered content, the tracking links, and when it may go (quiet hours).
A message that may not go is still written, as ``suppressed`` or ``failed`` with the reason,
so the same idempotency key never produces a message later.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from sampan.consent import service as consent
from sampan.core.batching import chunks
from sampan.core.clock import from_ms
from sampan.core.ids import new_id
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.identity import service as identity
from sampan.messaging.channels import registry
from sampan.messaging.channels.base import ContentError
from sampan.messaging.models import Channel, Message, PushSubscription, Template
from sampan.messaging.rules import (
    ADDRESS_TYPES,
    CONSENT_CHANNEL,
    PURPOSE_OF_CATEGORY,
    Candidate,
    choose_channel,
    over_cap,
    quiet_until,
)
from sampan.messaging.schemas import MessagingRules, Outgoing
from sampan.messaging.templates import RenderError, render_body, wrap_links
from sampan.profiles import service as profiles
from sampan.profiles.schemas import Person, ProfileFacts

# Statuses that count against frequency caps: sent, or on the way.
CAP_STATUSES = ("queued", "sending", "sent", "delivered")


def tracking_serializer(session: Session) -> URLSafeSerializer:
    """Return the signer of open and click links (a secret of this workspace)."""
    return URLSafeSerializer(consent.workspace_secret(session, "message_tracking"), salt="track")


class Recipients:
    """Everything about the recipients of a batch, loaded in a few queries."""

    def __init__(self, session: Session, profile_ids: Sequence[str], currency: str) -> None:
        self.people: dict[str, Person] = profiles.find_people(session, profile_ids=profile_ids)
        canonical = sorted({p.profile_id for p in self.people.values() if p.erased_at is None})
        self.facts: dict[str, ProfileFacts] = {
            f.profile_id: f
            for f in profiles.facts_of(session, profile_ids=canonical, currency=currency)
        }
        every = sorted({pid for p in self.people.values() for pid in p.profile_ids})
        found = identity.identifiers_of(session, profile_ids=every)
        self.identifiers: dict[str, list[tuple[str, str]]] = {}
        for person in self.people.values():
            self.identifiers[person.profile_id] = [
                (i.type, i.value) for pid in person.profile_ids for i in found.get(pid, [])
            ]
        self.push: dict[str, list[str]] = {}
        owner = {pid: p.profile_id for p in self.people.values() for pid in p.profile_ids}
        for chunk in chunks(every):
            for row in session.scalars(
                select(PushSubscription)
                .where(PushSubscription.profile_id.in_(chunk), PushSubscription.gone_at.is_(None))
                .order_by(PushSubscription.created_at.desc())
            ):
                self.push.setdefault(owner[row.profile_id], []).append(_json(row.subscription))

    def address(self, profile_id: str, kind: str) -> str | None:
        """Return where this person is reached on a channel kind, if anywhere."""
        if kind == "push":
            found = self.push.get(profile_id)
            return found[0] if found else None
        if kind == "webhook":
            return profile_id
        wanted = ADDRESS_TYPES.get(kind)
        for id_type, value in self.identifiers.get(profile_id, []):
            if id_type == wanted:
                return value
        return None

    def subject(self, profile_id: str, kind: str, address: str | None) -> dict[str, Any]:
        """Return how events about this person identify them in the event log."""
        ids = self.identifiers.get(profile_id, [])
        for wanted, field in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
            for id_type, value in ids:
                if id_type == wanted:
                    return {field: value}
        address_type = ADDRESS_TYPES.get(kind)
        if address_type is not None and address is not None:
            return {
                "anonymousId": address,
                "externalIds": [{"type": address_type, "id": address}],
            }
        for id_type, value in ids:
            return {"anonymousId": value, "externalIds": [{"type": id_type, "id": value}]}
        return {"anonymousId": f"profile:{profile_id}"}


def enqueue(
    session: Session,
    *,
    items: Sequence[Outgoing],
    rules: MessagingRules,
    catalog: consent.PurposeCatalog,
    currency: str,
) -> list[str]:
    """Write each item to the outbox unless its key is known; return the message ids in order."""
    keys = [item.idempotency_key for item in items]
    existing = _ids_of_keys(session, keys)
    fresh = [item for item in items if item.idempotency_key not in existing]
    if fresh:
        rows = _build_rows(session, fresh, rules, catalog, currency)
        insert_ignoring_duplicates(session, Message, rows, ["idempotency_key"])
        existing.update(_ids_of_keys(session, [row["idempotency_key"] for row in rows]))
    return [existing[key] for key in keys]


def _build_rows(
    session: Session,
    items: Sequence[Outgoing],
    rules: MessagingRules,
    catalog: consent.PurposeCatalog,
    currency: str,
) -> list[dict[str, Any]]:
    now = rules.clock()
    templates = {
        row.id: row
        for row in session.scalars(
            select(Template).where(Template.id.in_({item.template_id for item in items}))
        )
    }
    channels = {
        row.name: row
        for row in session.scalars(
            select(Channel).where(Channel.name.in_({n for item in items for n in item.channels}))
        )
    }
    people = Recipients(session, [item.profile_id for item in items], currency)
    canonical = sorted({p.profile_id for p in people.people.values()})
    decisions = _consent_decisions(session, items, channels, canonical, catalog, rules)
    recent = _recent_sends(session, canonical, now)
    serializer = tracking_serializer(session)
    links = consent.preference_links(
        session,
        profile_ids=[p.profile_id for p in people.people.values() if p.erased_at is None],
        public_url=rules.public_url,
        clock=rules.clock,
    )
    rows = []
    for item in items:
        message_id = new_id("msg")
        person = people.people.get(item.profile_id)
        row: dict[str, Any] = {
            "id": message_id,
            "idempotency_key": item.idempotency_key,
            "profile_id": person.profile_id if person else item.profile_id,
            "category": item.category,
            "purpose": PURPOSE_OF_CATEGORY[item.category],
            "template_id": item.template_id,
            "campaign_id": item.campaign_id,
            "variant": item.variant,
            "origin": item.origin,
            "retry_key": str(uuid.uuid4()),
            "created_at": now,
            "due_at": max(now, item.send_at or now),
            "subject": {},
            "content": {},
            "headers": {},
            "links": [],
        }
        rows.append(row)
        template = templates.get(item.template_id)
        if person is None or person.erased_at is not None or template is None:
            why = "template not found" if template is None else "the person was erased"
            row.update(status="suppressed", reason=why, finished_at=now)
            continue
        candidates = []
        for name in item.channels:
            channel = channels.get(name)
            if channel is None or not channel.enabled:
                candidates.append(Candidate(name, None, True, False, "channel missing or off"))
                continue
            address = people.address(person.profile_id, channel.kind)
            check = decisions[(channel.kind, item.category)].get(person.profile_id)
            refusal = None if check is None or check.allowed else f"{check.reason}: {check.detail}"
            if refusal is None and item.category == "marketing":
                cap = rules.caps.get(channel.kind)
                if cap is not None:
                    refusal = over_cap(
                        recent.get((person.profile_id, channel.kind), []),
                        now=now,
                        per_day=cap.per_day,
                        per_week=cap.per_week,
                    )
            candidates.append(
                Candidate(
                    name,
                    address,
                    channel.kind in template.bodies,
                    refusal is None,
                    refusal,
                )
            )
        chosen, reasons = choose_channel(candidates)
        if chosen is None:
            row.update(status="suppressed", reason="; ".join(reasons), finished_at=now)
            continue
        channel = channels[chosen.channel]
        recent.setdefault((person.profile_id, channel.kind), []).append(row["due_at"])
        row.update(
            channel_id=channel.id,
            kind=channel.kind,
            address=chosen.address,
            subject=people.subject(person.profile_id, channel.kind, chosen.address),
            status="queued",
            reason="; ".join(reasons) or None,
        )
        try:
            _render_into(
                links[person.profile_id],
                row,
                channel.config,
                item,
                template,
                person,
                people.facts.get(person.profile_id),
                rules,
                serializer,
            )
        except (RenderError, ContentError) as exc:
            row.update(status="failed", reason=f"not sent: {exc}", content={}, finished_at=now)
            continue
        row["timezone"] = _timezone(people.facts.get(person.profile_id), rules)
        if item.category == "marketing":
            quiet = quiet_until(
                row["due_at"],
                timezone=row["timezone"],
                start=rules.quiet_start,
                end=rules.quiet_end,
            )
            if quiet is not None:
                row["due_at"] = quiet
                row["reason"] = f"deferred by quiet hours until {quiet.isoformat()}"
    return rows


def _render_into(
    unsubscribe: str,
    row: dict[str, Any],
    channel_config: dict[str, Any],
    item: Outgoing,
    template: Template,
    person: Person,
    facts: ProfileFacts | None,
    rules: MessagingRules,
    serializer: URLSafeSerializer,
) -> None:
    kind = row["kind"]
    bodies = template.bodies[kind]
    wanted = "en" if (person.locale or "").lower().startswith("en") else "th"
    language = wanted if wanted in bodies else next(iter(bodies))
    variables = template_variables(
        facts, event=item.event, coupon_code=item.coupon_code, extra=item.variables
    )
    variables["message"] = {"id": row["id"]}
    variables["unsubscribe_url"] = unsubscribe
    content = render_body(bodies[language], variables, f"bodies.{kind}.{language}")
    base = rules.public_url.rstrip("/")

    def tracked(index: int) -> str:
        return f"{base}/t/c/{serializer.dumps([row['id'], index])}"

    links: list[str] = []
    if kind != "webhook":
        # A webhook's payload goes to a system, not a person: its URLs stay as they are.
        content, links = wrap_links(content, tracked)
    if kind == "email":
        if content.get("html"):
            pixel = f"{base}/t/o/{serializer.dumps([row['id'], -1])}.gif"
            content["html"] += f'<img src="{pixel}" width="1" height="1" alt="" />'
        if item.category == "marketing":
            row["headers"] = {
                "List-Unsubscribe": f"<{unsubscribe}/unsubscribe>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
    registry.check_content(kind, content, channel_config)
    row.update(content=content, links=links, language=language)


_TRAIT_SPELLINGS = (
    ("firstName", "first_name"),
    ("lastName", "last_name"),
    ("createdAt", "created_at"),
)


def template_variables(
    facts: ProfileFacts | None,
    *,
    event: Mapping[str, Any] | None,
    coupon_code: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return what templates see: profile traits, computed figures, the event, the coupon."""
    traits = dict(facts.traits) if facts else {}
    # The Segment spec's reserved traits are camelCase (firstName, from analytics.js and the
    # SDKs); templates may use either spelling, and a trait sent in both keeps its own value.
    for camel, snake in _TRAIT_SPELLINGS:
        if camel in traits and snake not in traits:
            traits[snake] = traits[camel]
        elif snake in traits and camel not in traits:
            traits[camel] = traits[snake]
    computed: dict[str, Any] = {}
    if facts is not None:
        computed = {
            "order_count": facts.order_count,
            "total_spent": facts.total_spent / 100,
            "last_order_at": from_ms(facts.last_order_ms) if facts.last_order_ms else None,
            "first_seen_at": from_ms(facts.first_seen_ms) if facts.first_seen_ms else None,
            "bought_categories": list(facts.bought_categories),
        }
    # Caller variables come first: they cannot replace what Sampan provides.
    return {
        **dict(extra or {}),
        "profile": traits,
        "traits": traits,
        "computed": computed,
        "event": dict(event or {}),
        "coupon": {"code": coupon_code} if coupon_code else {},
        "coupon_code": coupon_code or "",
        "recommendations": [],
    }


def _timezone(facts: ProfileFacts | None, rules: MessagingRules) -> str:
    zone = facts.traits.get("timezone") if facts else None
    if not isinstance(zone, str):
        return rules.timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return rules.timezone
    return zone


def _consent_decisions(
    session: Session,
    items: Sequence[Outgoing],
    channels: Mapping[str, Channel],
    profile_ids: Sequence[str],
    catalog: consent.PurposeCatalog,
    rules: MessagingRules,
) -> dict[tuple[str, str], dict[str, consent.ContactDecision]]:
    wanted = {
        (channels[name].kind, item.category)
        for item in items
        for name in item.channels
        if name in channels
    }
    return {
        (kind, category): consent.can_contact_many(
            session,
            profile_ids=profile_ids,
            purpose=PURPOSE_OF_CATEGORY[category],
            channel=CONSENT_CHANNEL.get(kind, kind),
            catalog=catalog,
            clock=rules.clock,
        )
        for kind, category in wanted
    }


def _recent_sends(
    session: Session, profile_ids: Sequence[str], now: datetime
) -> dict[tuple[str, str], list[datetime]]:
    """Return when each person was (or is about to be) sent marketing, per kind, this week."""
    recent: dict[tuple[str, str], list[datetime]] = {}
    for chunk in chunks(list(profile_ids)):
        for profile_id, kind, sent_at, due_at in session.execute(
            select(Message.profile_id, Message.kind, Message.sent_at, Message.due_at).where(
                Message.profile_id.in_(chunk),
                Message.category == "marketing",
                Message.status.in_(CAP_STATUSES),
                Message.due_at > now - timedelta(days=7),
            )
        ):
            recent.setdefault((profile_id, kind or ""), []).append(sent_at or due_at)
    return recent


def _ids_of_keys(session: Session, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in chunks(list(dict.fromkeys(keys))):
        found.update(
            (key, message_id)
            for key, message_id in session.execute(
                select(Message.idempotency_key, Message.id).where(
                    Message.idempotency_key.in_(chunk)
                )
            )
        )
    return found


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
