from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any

import phonenumbers
import pytest

from sampan.consent.service import PurposeCatalog, consent_event_check
from sampan.demo.catalog import PRODUCTS
from sampan.demo.generator import (
    BANGKOK,
    DEFAULT_CUSTOMERS,
    DemoEvent,
    demo_window,
    generate_events,
    summarise,
)
from sampan.settings import default_purposes

END = datetime(2025, 6, 30, 21, 0, tzinfo=BANGKOK)
THAI = re.compile(r"[\u0E00-\u0E7F]")
IDENTIFYING_TRAITS = ("email", "phone", "line_user_id", "facebook_psid", "loyalty_id")


@cache
def demo(seed: int = 42, customers: int = 500) -> tuple[DemoEvent, ...]:
    return tuple(generate_events(seed=seed, customers=customers, end=END))


def national(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return "0" + digits[2:] if digits.startswith("66") else digits


def identifiers(payload: dict[str, Any]) -> Iterator[str]:
    for key, kind in (("userId", "user_id"), ("anonymousId", "anonymous_id")):
        if key in payload:
            yield f"{kind}:{payload[key]}"
    context = payload["context"]
    for traits in (payload.get("traits", {}), context.get("traits", {})):
        for key in (*IDENTIFYING_TRAITS, "pos_customer_id"):
            if key in traits:
                value = national(traits[key]) if key == "phone" else str(traits[key]).lower()
                yield f"{key}:{value}"
    if "id" in context.get("device", {}):
        yield f"device_id:{context['device']['id']}"
    for external in context.get("externalIds", []):
        yield f"{external['type']}:{external['id']}"


def people(events: tuple[DemoEvent, ...]) -> list[list[DemoEvent]]:
    """Group events into people by linking every identifier seen in one message."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent[key] != key:
            key = parent[key]
        return key

    for event in events:
        keys = list(identifiers(event.payload))
        for key in keys:
            parent.setdefault(key, key)
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    grouped: dict[str, list[DemoEvent]] = defaultdict(list)
    for event in events:
        grouped[root(next(identifiers(event.payload)))].append(event)
    return list(grouped.values())


def is_anonymous(payload: dict[str, Any]) -> bool:
    return set(identifiers(payload)) <= {f"anonymous_id:{payload.get('anonymousId')}"} | {
        f"device_id:{payload['context'].get('device', {}).get('id')}"
    }


def test_same_seed_and_end_give_identical_events() -> None:
    again = tuple(generate_events(seed=42, customers=500, end=END))

    assert again == demo()


def test_different_seed_gives_different_events() -> None:
    other = demo(seed=43)

    assert [e.payload["messageId"] for e in other[:50]] != [
        e.payload["messageId"] for e in demo()[:50]
    ]
    assert other != demo()


def test_default_size_describes_at_least_five_thousand_customers() -> None:
    events = tuple(generate_events(seed=1, customers=DEFAULT_CUSTOMERS, end=END))

    assert DEFAULT_CUSTOMERS >= 5_000
    assert len(people(events)) == DEFAULT_CUSTOMERS
    assert 20 * DEFAULT_CUSTOMERS <= len(events) <= 40 * DEFAULT_CUSTOMERS


def test_every_message_is_a_valid_segment_message() -> None:
    events = demo()
    message_ids = [event.payload["messageId"] for event in events]

    assert len(set(message_ids)) == len(message_ids)
    for event in events:
        payload = event.payload
        assert payload["type"] in {"identify", "track", "page", "screen"}
        assert "userId" in payload or "anonymousId" in payload
        assert payload["context"]["channel"] == event.source
        assert event.source in {"web", "app", "pos", "line"}
        if payload["type"] == "track":
            assert payload["event"]
            assert isinstance(payload["properties"], dict)
        if payload["type"] == "identify":
            assert payload["traits"]


def test_timestamps_are_bangkok_time_inside_the_window_and_in_order() -> None:
    start, end = demo_window(END, 12)
    stamps = [datetime.fromisoformat(event.payload["timestamp"]) for event in demo()]

    assert start == datetime(2024, 6, 30, 21, 0, tzinfo=BANGKOK)
    assert all(event.payload["timestamp"].endswith("+07:00") for event in demo())
    assert all(start <= stamp <= end for stamp in stamps)
    assert stamps == sorted(stamps)
    assert stamps[-1] - stamps[0] > (end - start) * 0.9


def test_names_are_written_in_thai_script() -> None:
    names = [
        event.payload["traits"]["firstName"] + event.payload["traits"]["lastName"]
        for event in demo()
        if event.payload["type"] == "identify" and "firstName" in event.payload["traits"]
    ]

    assert names
    assert all(THAI.search(name) for name in names)


def test_each_phone_number_seen_twice_is_written_in_at_least_two_forms() -> None:
    forms: dict[str, set[str]] = defaultdict(set)
    sightings: dict[str, int] = defaultdict(int)
    for event in demo():
        for traits in (event.payload.get("traits", {}), event.payload["context"].get("traits", {})):
            if "phone" in traits:
                forms[national(traits["phone"])].add(traits["phone"])
                sightings[national(traits["phone"])] += 1

    repeated = [number for number, count in sightings.items() if count >= 2]
    assert len(repeated) > 0.6 * len(sightings)
    assert all(len(forms[number]) >= 2 for number in repeated)
    assert all(re.fullmatch(r"0(6[1-6]|8\d|9\d)\d{7}", number) for number in sightings)
    assert all(
        phonenumbers.is_valid_number(phonenumbers.parse(number, "TH")) for number in sightings
    )


def test_events_stitch_into_exactly_the_requested_customers() -> None:
    assert len(people(demo())) == 500
    assert summarise(demo()).customers == 500


def test_many_customers_use_two_to_four_channels() -> None:
    channel_counts = [len({event.source for event in person}) for person in people(demo())]

    multi = sum(1 for count in channel_counts if count >= 2)
    assert multi > 0.4 * len(channel_counts)
    assert all(1 <= count <= 4 for count in channel_counts)
    assert any(count == 4 for count in channel_counts)


def test_about_a_third_browse_anonymously_before_they_identify() -> None:
    persons = people(demo())

    anonymous_first = [person for person in persons if is_anonymous(person[0].payload)]
    assert 0.25 * len(persons) <= len(anonymous_first) <= 0.45 * len(persons)
    for person in anonymous_first:
        assert any(event.payload["type"] == "identify" for event in person)
        assert any("userId" in event.payload for event in person)


def test_order_totals_equal_the_sum_of_price_times_quantity() -> None:
    prices = {product.product_id: product.price for product in PRODUCTS}
    orders = [e.payload for e in demo() if e.payload.get("event") == "Order Completed"]

    assert len(orders) > 300
    for order in orders:
        properties = order["properties"]
        expected = sum(item["price"] * item["quantity"] for item in properties["products"])
        assert properties["total"] == expected
        assert properties["currency"] == "THB"
        assert all(prices[item["product_id"]] == item["price"] for item in properties["products"])


def test_refunds_and_abandoned_carts_are_present() -> None:
    names = [event.payload.get("event") for event in demo()]
    order_ids = {
        e.payload["properties"]["order_id"]
        for e in demo()
        if e.payload.get("event") == "Order Completed"
    }
    refunds = [e.payload for e in demo() if e.payload.get("event") == "Order Refunded"]

    assert names.count("Checkout Started") > 0
    assert names.count("Product Added") > names.count("Order Completed") * 0.5
    assert 0 < len(refunds) < 0.1 * len(order_ids)
    assert all(refund["properties"]["order_id"] in order_ids for refund in refunds)


def test_line_events_carry_the_line_user_id() -> None:
    line = [event.payload for event in demo() if event.source == "line"]

    assert line
    for payload in line:
        (external,) = payload["context"]["externalIds"]
        assert external["type"] == "line_user_id"
        assert re.fullmatch(r"U[0-9a-f]{32}", external["id"])
        assert payload["anonymousId"] == external["id"]


def test_every_message_serialises_under_32_kb() -> None:
    sizes = [len(json.dumps(event.payload, ensure_ascii=False).encode()) for event in demo()]

    assert max(sizes) < 32 * 1024


def test_summary_counts_orders_and_channels() -> None:
    summary = summarise(demo())

    assert summary.events == len(demo())
    assert sum(summary.events_per_channel.values()) == len(demo())
    assert summary.orders == sum(1 for e in demo() if e.payload.get("event") == "Order Completed")
    assert all(summary.events_per_channel[channel] > 0 for channel in ("web", "app", "pos", "line"))


def test_a_naive_end_is_refused_before_anything_is_generated() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_events(seed=1, customers=10, end=datetime(2025, 6, 30, 21, 0))  # noqa: DTZ001


def test_a_shorter_window_keeps_every_event_inside_it() -> None:
    start, end = demo_window(END, 3)
    events = list(generate_events(seed=3, customers=50, end=END, months=3))

    assert start == datetime(2025, 3, 30, 21, 0, tzinfo=BANGKOK)
    assert events
    assert all(start <= datetime.fromisoformat(e.payload["timestamp"]) <= end for e in events)


def test_customers_answer_the_consent_form_and_line_followers_opt_in() -> None:
    catalog = PurposeCatalog.build(default_purposes())
    check = consent_event_check(catalog)
    answers: dict[str, list[str]] = defaultdict(list)
    for event in demo():
        payload = event.payload
        if payload["type"] == "track" and payload["event"] == "Consent Updated":
            check(payload["properties"])
            for change in payload["properties"].get("consents", [payload["properties"]]):
                answers[f"{change['purpose']}:{change.get('channel', '')}"].append(change["status"])
    emails = answers["marketing:email"]
    assert 0.5 < emails.count("granted") / len(emails) < 0.9
    assert "withdrawn" in answers["marketing:sms"]
    assert answers["marketing:line"].count("granted") > 0
