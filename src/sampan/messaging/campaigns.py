"""Campaigns: a template broadcast to a segment, with A/B variants and a control group.

Each member falls in one arm by a hash of campaign and profile, so a relaunch after a crash
gives everyone the same arm and the same message key (``campaign:<id>:<profile>``): nobody
is messaged twice. Results compare arms on intent to treat: a conversion is the conversion
event within ``attribution_days`` of the launch, for every member of the arm, sent to or not,
so that the control group (who gets nothing) is compared fairly.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sampan.consent import service as consent
from sampan.core.batching import chunks
from sampan.core.errors import Conflict, InvalidInput, NotFound
from sampan.core.ids import new_id
from sampan.core.stats import compare_rates
from sampan.db.rows import affected_rows
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.messaging.models import Campaign, CampaignRecipient, Channel, Message, Template
from sampan.messaging.outbox import enqueue
from sampan.messaging.schemas import (
    ArmStats,
    CampaignInput,
    CampaignOut,
    CampaignStats,
    MessagingRules,
    Outgoing,
    Uplift,
)
from sampan.segments import service as segments

CONTROL = "control"
_SENT = ("sent", "delivered", "bounced")


def save_campaign(
    session: Session,
    *,
    data: CampaignInput,
    rules: MessagingRules,
    campaign_id: str | None = None,
) -> CampaignOut:
    """Create a campaign, or change one that has not been launched."""
    now = rules.clock()
    segments.get_segment(session, segment_id=data.segment_id)
    known = set(session.scalars(select(Channel.name).where(Channel.name.in_(data.channels))))
    missing = [name for name in data.channels if name not in known]
    if missing:
        raise InvalidInput(f"channels: no channel named {', '.join(missing)}")
    names = [v.name for v in data.variants]
    if len(set(names)) != len(names) or CONTROL in names:
        raise InvalidInput("variants: names must be unique and not 'control'")
    variants = []
    for index, variant in enumerate(data.variants):
        template = session.scalar(
            select(Template).where(
                (Template.id == variant.template) | (Template.name == variant.template)
            )
        )
        if template is None:
            raise InvalidInput(f"variants[{index}].template: no template '{variant.template}'")
        variants.append({"name": variant.name, "template": template.id, "weight": variant.weight})
    if data.scheduled_at is not None and data.scheduled_at.tzinfo is None:
        raise InvalidInput("scheduled_at needs a time zone, e.g. 2026-12-01T09:00:00+07:00")
    if campaign_id is None:
        row = Campaign(id=new_id("cmp"), created_at=now)
        session.add(row)
    else:
        row = _row(session, campaign_id)
        if row.status not in ("draft", "scheduled"):
            raise Conflict(f"campaign '{campaign_id}' is {row.status} and can no longer change")
    row.name = data.name
    row.segment_id = data.segment_id
    row.category = data.category
    row.channels = list(data.channels)
    row.variants = variants
    row.control_percent = data.control_percent
    row.scheduled_at = data.scheduled_at
    row.attribution_days = data.attribution_days
    row.conversion_event = data.conversion_event
    row.status = "scheduled" if data.scheduled_at is not None else "draft"
    row.updated_at = now
    session.flush()
    return campaign_out(row)


def cancel_campaign(session: Session, *, campaign_id: str, rules: MessagingRules) -> CampaignOut:
    """Cancel a campaign, also after launch: what waits in the queue is not sent.

    Messages deferred by quiet hours wait until morning; cancelling stops them.
    """
    row = _row(session, campaign_id)
    if row.status == "cancelled":
        raise Conflict(f"campaign '{campaign_id}' is already cancelled")
    now = rules.clock()
    row.status, row.updated_at = "cancelled", now
    session.execute(
        update(Message)
        .where(Message.campaign_id == row.id, Message.status == "queued")
        .values(status="suppressed", reason="the campaign was cancelled", finished_at=now)
    )
    return campaign_out(row)


def launch(
    session: Session,
    *,
    campaign_id: str,
    rules: MessagingRules,
    catalog: consent.PurposeCatalog,
    currency: str,
) -> CampaignOut:
    """Assign every member of the segment an arm and queue the messages of the variants."""
    row = _row(session, campaign_id)
    if row.status not in ("draft", "scheduled", "sending"):
        raise Conflict(f"campaign '{campaign_id}' is {row.status}; it cannot be launched")
    now = rules.clock()
    row.status, row.updated_at = "sending", now
    row.launched_at = row.launched_at or now
    members = segments.member_ids(session, segment_id=row.segment_id)
    arms = {pid: assign_arm(row.id, pid, row.control_percent, row.variants) for pid in members}
    insert_ignoring_duplicates(
        session,
        CampaignRecipient,
        [
            {"campaign_id": row.id, "profile_id": pid, "arm": arm, "assigned_at": now}
            for pid, arm in arms.items()
        ],
        ["campaign_id", "profile_id"],
    )
    templates = {v["name"]: v["template"] for v in row.variants}
    treated = [pid for pid, arm in arms.items() if arm != CONTROL]
    for chunk in chunks(treated, 1000):
        items = [
            Outgoing(
                profile_id=pid,
                template_id=templates[arms[pid]],
                channels=tuple(row.channels),
                idempotency_key=f"campaign:{row.id}:{pid}",
                category=row.category,
                origin=f"campaign:{row.id}",
                campaign_id=row.id,
                variant=arms[pid],
            )
            for pid in chunk
        ]
        ids = enqueue(session, items=items, rules=rules, catalog=catalog, currency=currency)
        for pid, message_id in zip(chunk, ids, strict=True):
            session.execute(
                update(CampaignRecipient)
                .where(CampaignRecipient.campaign_id == row.id, CampaignRecipient.profile_id == pid)
                .values(message_id=message_id)
            )
    row.status = "sent"
    return campaign_out(row)


def due_campaigns(session: Session, *, now: datetime) -> list[str]:
    """Return the scheduled campaigns whose time has come, and launches a crash interrupted."""
    return list(
        session.scalars(
            select(Campaign.id).where(
                (Campaign.status == "scheduled") & (Campaign.scheduled_at <= now)
                | (Campaign.status == "sending")
            )
        )
    )


def assign_arm(campaign_id: str, profile_id: str, control: float, variants: Sequence[Any]) -> str:
    """Return the arm of one person: the same every time, random across people."""
    digest = hashlib.sha256(f"{campaign_id}:{profile_id}".encode()).digest()
    draw = int.from_bytes(digest[:8]) / 2**64
    if draw * 100 < control:
        return CONTROL
    # Rescale what is left above the control share to pick a variant by weight.
    rest = (draw * 100 - control) / (100 - control)
    total = sum(float(v["weight"]) for v in variants)
    edge = 0.0
    for variant in variants:
        edge += float(variant["weight"]) / total
        if rest < edge:
            return str(variant["name"])
    return str(variants[-1]["name"])


def campaign_stats(session: Session, *, campaign_id: str) -> CampaignStats:
    """Count each arm's outcomes and compare every variant's conversion with control."""
    row = _row(session, campaign_id)
    recipients = list(
        session.execute(
            select(CampaignRecipient.profile_id, CampaignRecipient.arm, Message)
            .join(Message, Message.id == CampaignRecipient.message_id, isouter=True)
            .where(CampaignRecipient.campaign_id == row.id)
        )
    )
    arms = [v["name"] for v in row.variants] + ([CONTROL] if row.control_percent > 0 else [])
    launched = row.launched_at
    conversions: dict[str, float] = {}
    unsubscribed: set[str] = set()
    if launched is not None:
        ids = [pid for pid, _, _ in recipients]
        start_ms = int(launched.timestamp() * 1000)
        end_ms = int((launched + timedelta(days=row.attribution_days)).timestamp() * 1000)
        for pid, ts, props in segments.events_of(
            session, profile_ids=ids, name=row.conversion_event, since_ms=start_ms
        ):
            if ts <= end_ms:
                conversions[pid] = conversions.get(pid, 0.0) + _revenue(props)
        unsubscribed = _unsubscribed(session, ids, launched, row)
    counts: dict[str, dict[str, Any]] = {
        arm: {
            "targeted": 0,
            "sent": 0,
            "delivered": 0,
            "opened": 0,
            "clicked": 0,
            "unsubscribed": 0,
            "suppressed": 0,
            "failed": 0,
            "converted": 0,
            "revenue": 0.0,
        }
        for arm in arms
    }
    for pid, arm, message in recipients:
        tally = counts.setdefault(arm, dict.fromkeys(counts[arms[0]], 0))
        tally["targeted"] += 1
        if message is not None:
            tally["sent"] += message.sent_at is not None
            tally["delivered"] += message.delivered_at is not None
            tally["opened"] += message.opened_at is not None
            tally["clicked"] += message.clicked_at is not None
            tally["suppressed"] += message.status == "suppressed"
            tally["failed"] += message.status in ("failed", "bounced")
        tally["unsubscribed"] += pid in unsubscribed
        if pid in conversions:
            tally["converted"] += 1
            tally["revenue"] += conversions[pid]
    stats = [
        ArmStats(
            arm=arm,
            conversion_rate=tally["converted"] / tally["targeted"] if tally["targeted"] else 0.0,
            **tally,
        )
        for arm, tally in counts.items()
    ]
    control = next((s for s in stats if s.arm == CONTROL), None)
    uplift = [
        _uplift(s, control) for s in stats if s.arm != CONTROL and control and control.targeted
    ]
    return CampaignStats(campaign_id=row.id, arms=stats, uplift=uplift)


def _uplift(arm: ArmStats, control: ArmStats) -> Uplift:
    found = compare_rates(arm.converted, arm.targeted, control.converted, control.targeted)
    return Uplift(arm=arm.arm, **dataclasses.asdict(found))


def _unsubscribed(
    session: Session, profile_ids: Sequence[str], since: datetime, row: Campaign
) -> set[str]:
    kinds = set(session.scalars(select(Channel.kind).where(Channel.name.in_(row.channels))))
    found: set[str] = set()
    wanted = set(profile_ids)
    for kind in kinds & {"email", "sms", "line", "push", "facebook"}:
        query = consent.consent_rows("marketing", kind).subquery()
        for profile_id in session.scalars(
            select(query.c.profile_id).where(
                query.c.status == "withdrawn", query.c.recorded_at >= since
            )
        ):
            if profile_id in wanted:
                found.add(profile_id)
    return found


def erase_recipients(session: Session, profile_ids: Sequence[str]) -> int:
    """Forget which campaigns targeted these people."""
    statement = delete(CampaignRecipient).where(CampaignRecipient.profile_id.in_(list(profile_ids)))
    return affected_rows(session, statement)


def _revenue(props: dict[str, Any]) -> float:
    for key in ("revenue", "total", "value"):
        try:
            return float(Decimal(str(props[key])))
        except (KeyError, InvalidOperation, ValueError):
            continue
    return 0.0


def _row(session: Session, campaign_id: str) -> Campaign:
    row = session.get(Campaign, campaign_id)
    if row is None:
        raise NotFound(f"campaign '{campaign_id}' does not exist")
    return row


def campaign_out(row: Campaign) -> CampaignOut:
    """Return a campaign in the API's shape."""
    return CampaignOut(
        id=row.id,
        name=row.name,
        segment_id=row.segment_id,
        channels=list(row.channels),
        category=row.category,
        variants=[
            {"name": v["name"], "template": v["template"], "weight": v["weight"]}
            for v in row.variants
        ],
        control_percent=row.control_percent,
        scheduled_at=row.scheduled_at,
        attribution_days=row.attribution_days,
        conversion_event=row.conversion_event,
        status=row.status,
        launched_at=row.launched_at,
        created_at=row.created_at,
    )


def list_campaigns(session: Session) -> list[CampaignOut]:
    """Return every campaign, newest first."""
    rows = session.scalars(select(Campaign).order_by(Campaign.created_at.desc()))
    return [campaign_out(row) for row in rows]


def get_campaign(session: Session, *, campaign_id: str) -> CampaignOut:
    """Return one campaign."""
    return campaign_out(_row(session, campaign_id))
