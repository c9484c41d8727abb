"""Shapes of the dashboard's figures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class FunnelStep(BaseModel):
    """One step of the lifecycle funnel."""

    stage: str
    people: int


class ChannelCount(BaseModel):
    """Events one channel sent."""

    channel: str
    events: int


class Overview(BaseModel):
    """The home dashboard: people, events today, journeys, revenue, channels and funnel."""

    people: int
    identified: int
    identified_share: float
    events_today: int
    live_journeys: int
    journeys: int
    orders: int
    revenue: Decimal
    currency: str
    channels_today: list[ChannelCount]
    funnel: list[FunnelStep]
    # The start of "today" in the workspace's time zone, and when the figures were read.
    today_from: datetime
    at: datetime
