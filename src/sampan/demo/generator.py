"""Simulate a year of the demo brand's customers on web, app, POS and LINE as Segment messages."""

from __future__ import annotations

import calendar
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sampan.demo.customer_life import BANGKOK, CustomerLife
from sampan.demo.messages import DemoEvent
from sampan.demo.people import (
    CHANNELS,
    generate_customers,
)

__all__ = [
    "BANGKOK",
    "DEFAULT_CUSTOMERS",
    "DemoEvent",
    "DemoSummary",
    "demo_window",
    "generate_events",
    "summarise",
]

DEFAULT_CUSTOMERS = 5_000

_IDENTIFYING_TRAITS = (
    "email", "phone", "line_user_id", "facebook_psid", "loyalty_id", "pos_customer_id",
)  # fmt: skip


@dataclass(frozen=True)
class DemoSummary:
    """Count what a demo data set holds."""

    customers: int
    members: int
    events: int
    orders: int
    refunds: int
    revenue: int
    events_per_channel: Mapping[str, int]


def demo_window(end: datetime, months: int) -> tuple[datetime, datetime]:
    """Return the Bangkok-time (start, end) of the `months` calendar months that end at `end`."""
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError(f"end must be timezone-aware, got naive {end.isoformat()}")
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    local_end = end.astimezone(BANGKOK)
    years_back, month_index = divmod(local_end.month - 1 - months, 12)
    year, month = local_end.year + years_back, month_index + 1
    day = min(local_end.day, calendar.monthrange(year, month)[1])
    return local_end.replace(year=year, month=month, day=day), local_end


def generate_events(
    *, seed: int, customers: int, end: datetime, months: int = 12
) -> Iterator[DemoEvent]:
    """Return every demo event of `customers` people over `months` months, in timestamp order."""
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    start, stop = demo_window(end, months)
    rng = random.Random(seed)
    timeline: list[tuple[datetime, int, int, DemoEvent]] = []
    order_numbers = iter(range(1, 10**9))
    for index, customer in enumerate(generate_customers(rng, customers)):
        life = CustomerLife(customer, random.Random(rng.getrandbits(64)), order_numbers)
        for sequence, (at, event) in enumerate(life.live(start, stop)):
            timeline.append((at, index, sequence, event))
    timeline.sort(key=lambda item: item[:3])
    return (event for *_, event in timeline)


def summarise(events: Iterable[DemoEvent]) -> DemoSummary:
    """Count the people (after stitching their identifiers), events, orders and revenue."""
    people = _PeopleCounter()
    per_channel: Counter[str] = Counter()
    members: set[str] = set()
    orders = refunds = revenue = total = 0
    for event in events:
        total += 1
        per_channel[event.source] += 1
        payload = event.payload
        people.link(payload)
        if "userId" in payload:
            members.add(payload["userId"])
        if payload.get("event") == "Order Completed":
            orders += 1
            revenue += payload["properties"]["total"]
        elif payload.get("event") == "Order Refunded":
            refunds += 1
            revenue -= payload["properties"]["total"]
    return DemoSummary(
        customers=people.count(),
        members=len(members),
        events=total,
        orders=orders,
        refunds=refunds,
        revenue=revenue,
        events_per_channel={channel: per_channel[channel] for channel in CHANNELS},
    )


class _PeopleCounter:
    """Union identifiers that appear in one message, the way the server stitches profiles."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def link(self, payload: Mapping[str, Any]) -> None:
        keys = list(_identifiers(payload))
        for key in keys:
            self._parent.setdefault(key, key)
        for key in keys[1:]:
            self._parent[self._root(key)] = self._root(keys[0])

    def count(self) -> int:
        return sum(1 for key in self._parent if self._root(key) == key)

    def _root(self, key: str) -> str:
        while self._parent[key] != key:
            self._parent[key] = self._parent[self._parent[key]]
            key = self._parent[key]
        return key


def _identifiers(payload: Mapping[str, Any]) -> Iterator[str]:
    if "userId" in payload:
        yield f"user_id:{payload['userId']}"
    if "anonymousId" in payload:
        yield f"anonymous_id:{payload['anonymousId']}"
    context = payload.get("context", {})
    for traits in (payload.get("traits", {}), context.get("traits", {})):
        for key in _IDENTIFYING_TRAITS:
            if key in traits:
                value = str(traits[key])
                yield f"{key}:{_national_phone(value) if key == 'phone' else value.lower()}"
    if "device" in context and "id" in context["device"]:
        yield f"device_id:{context['device']['id']}"
    for external in context.get("externalIds", []):
        yield f"{external['type']}:{external['id']}"


def _national_phone(written: str) -> str:
    digits = "".join(character for character in written if character.isdigit())
    return "0" + digits[2:] if digits.startswith("66") else digits
