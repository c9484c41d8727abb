"""Figures across domains for the home dashboard, read through each domain's service."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sampan.analytics.schemas import ChannelCount, FunnelStep, Overview
from sampan.collect import service as collect
from sampan.core.clock import to_ms
from sampan.journeys import service as journeys
from sampan.segments import service as segments
from sampan.segments.service import CompileContext

FUNNEL = ("awareness", "consideration", "purchase", "retention", "advocacy")


def overview(
    session: Session, *, context: CompileContext, timezone: str, currency: str
) -> Overview:
    """Return the dashboard's figures now; each is one indexed query or an aggregate."""
    now = context.now
    today = now.astimezone(ZoneInfo(timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
    people = segments.overview(session, context=context)
    channels = collect.channel_counts(session, received_since_ms=to_ms(today))
    listed = journeys.list_journeys(session)
    steps = (
        people.people,
        people.considering,
        people.buyers,
        people.repeat_buyers,
        people.vip,
    )
    return Overview(
        people=people.people,
        identified=people.identified,
        identified_share=round(people.identified / people.people, 4) if people.people else 0.0,
        events_today=sum(channels.values()),
        live_journeys=sum(1 for journey in listed if journey.status == "live"),
        journeys=len(listed),
        orders=people.orders,
        revenue=(Decimal(people.revenue_minor) / context.minor_per_major).quantize(Decimal("0.01")),
        currency=currency,
        channels_today=[
            ChannelCount(channel=channel, events=count)
            for channel, count in sorted(channels.items(), key=lambda item: (-item[1], item[0]))
        ],
        funnel=[
            FunnelStep(stage=stage, people=count)
            for stage, count in zip(FUNNEL, steps, strict=True)
        ],
        today_from=today,
        at=now,
    )
