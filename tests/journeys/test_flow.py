"""Journeys end to end: events start runs, timers and events move them, messages go out."""

from __future__ import annotations

from typing import Any

from tests.journeys.conftest import Journeys

USER = "U" + "a" * 32


def abandoned_cart(**changes: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "entry": {
            "type": "event",
            "event": "Product Added",
            "where": [{"property": "price", "op": "gt", "value": 1000}],
            "entry_key": "cart_id",
        },
        "goal": {"event": "Order Completed", "window_days": 7},
        "start": "wait",
        "nodes": [
            {
                "id": "wait",
                "type": "wait_for_event",
                "event": "Order Completed",
                "timeout": "1h",
                "on_timeout": "coupon",
            },
            {"id": "coupon", "type": "coupon", "percent": 10, "prefix": "CART", "next": "remind"},
            {
                "id": "remind",
                "type": "send",
                "template": "welcome",
                "channels": ["line-oa", "mail"],
            },
        ],
    }
    return definition | changes


def test_abandoned_cart_sends_after_an_hour_without_a_purchase(journeys: Journeys) -> None:
    pid = journeys.person("Malee", line_user_id=USER, consents=("line",))
    journey = journeys.publish(abandoned_cart())
    journeys.track(pid, "Product Added", price=1590, cart_id="c1")
    [run] = journeys.runs(journey)
    assert run["status"] == "active"
    assert run["waiting"]
    assert run["node_id"] == "wait"
    journeys.wait(minutes=59)
    assert journeys.line_texts() == []
    journeys.wait(minutes=2)
    assert journeys.line_texts(to=USER) == ["สวัสดีคุณMalee"]
    done = journeys.run(run["id"])
    assert done["status"] == "completed"
    assert [(s["node_id"], s["outcome"]) for s in done["steps"]] == [
        ("entry", "entered"),
        ("wait", "waiting"),
        ("wait", "timeout"),
        ("coupon", "issued"),
        ("remind", "queued"),
    ]


def test_a_purchase_within_the_hour_ends_the_run_and_nothing_is_sent(journeys: Journeys) -> None:
    pid = journeys.person("Nok", line_user_id=USER, consents=("line",))
    journey = journeys.publish(abandoned_cart())
    journeys.track(pid, "Product Added", price=2500, cart_id="c9")
    journeys.wait(minutes=20)
    journeys.track(pid, "Order Completed", revenue=2500, order_id="o1")
    journeys.wait(hours=2)
    [run] = journeys.runs(journey)
    assert run["status"] == "exited"
    assert run["reason"] == "goal reached: Order Completed"
    assert run["goal_at"] is not None
    assert run["revenue"] == 2500
    assert journeys.line_texts() == []


def test_the_entry_filter_and_the_entry_key_decide_who_starts(journeys: Journeys) -> None:
    pid = journeys.person("Fah", line_user_id=USER, consents=("line",))
    journey = journeys.publish(abandoned_cart())
    journeys.track(pid, "Product Added", price=900, cart_id="cheap")
    assert journeys.runs(journey) == []
    journeys.track(pid, "Product Added", price=1200, cart_id="k1")
    journeys.track(pid, "Product Added", price=1300, cart_id="k1")
    journeys.track(pid, "Product Added", price=1400)
    assert [r["entry_key"] for r in journeys.runs(journey)] == ["k1"]
    journeys.track(pid, "Product Added", price=1500, cart_id="k2")
    assert sorted(r["entry_key"] for r in journeys.runs(journey)) == ["k1", "k2"]


def test_an_order_before_the_wait_counts_for_the_wait(journeys: Journeys) -> None:
    """Events between entering and reaching a wait node are not missed."""
    pid = journeys.person("Dao", line_user_id=USER, consents=("line",))
    definition = abandoned_cart(goal=None, start="pause")
    definition["nodes"] = [
        {"id": "pause", "type": "wait", "duration": "10m", "next": "wait"},
        {**definition["nodes"][0], "on_event": "thanks"},
        *definition["nodes"][1:],
        {"id": "thanks", "type": "emit", "event": "Cart Recovered"},
    ]
    journey = journeys.publish(definition)
    journeys.track(pid, "Product Added", price=1590, cart_id="c1")
    journeys.wait(minutes=5)
    journeys.track(pid, "Order Completed", revenue=1590)
    journeys.wait(minutes=6)
    [run] = journeys.runs(journey)
    steps = [(s["node_id"], s["outcome"]) for s in journeys.run(run["id"])["steps"]]
    assert ("wait", "event") in steps
    assert ("thanks", "emitted") in steps
    assert journeys.line_texts() == []


def test_a_purchase_in_the_same_batch_as_the_entry_converts_the_run(journeys: Journeys) -> None:
    pid = journeys.person("Kaew", line_user_id=USER, consents=("line",))
    journey = journeys.publish(abandoned_cart())
    user = journeys.user_of(pid)
    stamp = journeys.now.isoformat()
    batch = [
        {
            "type": "track",
            "userId": user,
            "event": "Product Added",
            "timestamp": stamp,
            "properties": {"price": 1590, "cart_id": "c1"},
        },
        {
            "type": "track",
            "userId": user,
            "event": "Order Completed",
            "timestamp": stamp,
            "properties": {"revenue": 1590},
        },
    ]
    response = journeys.kit.ws.client.post(
        "/v1/batch", json={"batch": batch}, headers={"X-Write-Key": journeys.kit.ws.write_key}
    )
    assert response.status_code == 200
    journeys.settle()
    [run] = journeys.runs(journey)
    assert run["status"] == "exited"
    assert run["revenue"] == 1590


def test_an_event_from_the_past_starts_no_run(journeys: Journeys) -> None:
    pid = journeys.person("Ton", line_user_id=USER, consents=("line",))
    journey = journeys.publish(abandoned_cart())
    old = {
        "type": "track",
        "userId": journeys.user_of(pid),
        "event": "Product Added",
        "properties": {"price": 5000, "cart_id": "imported"},
        "timestamp": "2026-10-01T10:00:00+07:00",
    }
    response = journeys.kit.ws.client.post(
        "/v1/track", json=old, headers={"X-Write-Key": journeys.kit.ws.write_key}
    )
    assert response.status_code == 200
    journeys.settle()
    assert journeys.runs(journey) == []


def test_a_template_gone_since_publishing_fails_that_run_only(journeys: Journeys) -> None:
    spare = {
        "name": "spare",
        "bodies": {"line": {"th": {"messages": [{"type": "text", "text": "hi"}]}}},
    }
    assert journeys.api("POST", "/api/messaging/templates", json=spare).status_code == 201
    pid = journeys.person("Dao", line_user_id=USER, consents=("line",))
    other = journeys.person("Nok", line_user_id="U" + "1" * 32, consents=("line",))
    broken = journeys.publish(
        {
            "entry": {"type": "event", "event": "Signed Up"},
            "start": "s",
            "nodes": [{"id": "s", "type": "send", "template": "spare", "channels": ["line-oa"]}],
        }
    )
    fine = journeys.publish(
        {
            "entry": {"type": "event", "event": "Signed Up"},
            "start": "s",
            "nodes": [{"id": "s", "type": "send", "template": "welcome", "channels": ["line-oa"]}],
        }
    )
    renamed = {**spare, "name": "spare-2"}
    assert journeys.api("PUT", "/api/messaging/templates/spare", json=renamed).status_code == 200
    journeys.track(pid, "Signed Up")
    journeys.track(other, "Signed Up")
    failed = journeys.runs(broken)
    assert {r["status"] for r in failed} == {"failed"}
    assert failed[0]["reason"] == "step s failed: template 'spare' does not exist"
    assert {r["status"] for r in journeys.runs(fine)} == {"completed"}
    assert journeys.metrics(broken)["failed"] == 2
