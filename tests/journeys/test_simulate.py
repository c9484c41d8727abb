"""Simulation: the path and the messages of one person, on a fast-forward clock, dry."""

from __future__ import annotations

from typing import Any

from tests.journeys.conftest import Journeys
from tests.journeys.test_flow import abandoned_cart

USER = "U" + "9" * 32


def simulate(journeys: Journeys, journey_id: str, **body: Any) -> dict[str, Any]:
    response = journeys.api("POST", f"/api/journeys/{journey_id}/simulate", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_real_person_without_a_purchase_gets_the_reminder_rendered(journeys: Journeys) -> None:
    pid = journeys.person("Malee", line_user_id=USER, consents=("line",))
    journey = journeys.publish(abandoned_cart())
    result = simulate(
        journeys,
        journey,
        profile_id=pid,
        trigger={"event": "Product Added", "properties": {"price": 1590, "cart_id": "c1"}},
    )
    assert result["status"] == "completed"
    assert [(s["node_id"], s["outcome"], s["offset"]) for s in result["path"]] == [
        ("wait", "waiting", "+0h 0m"),
        ("wait", "timeout", "+1h 0m"),
        ("coupon", "issued", "+1h 0m"),
        ("remind", "queued", "+1h 0m"),
    ]
    [message] = result["messages"]
    assert message["channels"] == ["line-oa", "mail"]
    assert message["preview"]["line"]["messages"][0]["text"] == "สวัสดีคุณMalee"
    assert len(result["coupons"]) == 1
    # Nothing was written or sent.
    assert journeys.runs(journey) == []
    journeys.settle()
    assert journeys.line_texts() == []


def test_a_purchase_within_the_hour_ends_the_simulated_run(journeys: Journeys) -> None:
    journey = journeys.publish(abandoned_cart())
    result = simulate(
        journeys,
        journey,
        events=[{"after": "20m", "event": "Order Completed", "properties": {"revenue": 990}}],
    )
    assert result["status"] == "exited"
    assert result["reason"] == "goal reached: Order Completed"
    assert result["converted_at"] is not None
    assert result["messages"] == []
    assert [s["outcome"] for s in result["path"]] == ["waiting", "converted"]


def test_branches_can_be_forced_and_the_draft_is_what_runs(journeys: Journeys) -> None:
    definition = {
        "entry": {"type": "event", "event": "Signed Up"},
        "start": "b",
        "nodes": [
            {
                "id": "b",
                "type": "branch",
                "condition": {"identity": "line_user_id"},
                "yes": "w",
                "no": "bye",
            },
            {"id": "w", "type": "wait", "duration": "3d", "next": "hi"},
            {"id": "hi", "type": "update_profile", "traits": {"greeted": True}},
            {"id": "bye", "type": "exit"},
        ],
    }
    created = journeys.api("POST", "/api/journeys", json={"name": "sim", "definition": definition})
    journey = created.json()["id"]
    synthetic = simulate(journeys, journey)
    assert [s["node_id"] for s in synthetic["path"]] == ["b", "bye"]
    forced = simulate(journeys, journey, branches={"b": "yes"})
    assert [(s["node_id"], s["offset"]) for s in forced["path"]][-1] == ("hi", "+3d 0h 0m")
    assert forced["events"] == [{"type": "identify", "event": None, "traits": {"greeted": True}}]
    short = simulate(journeys, journey, branches={"b": "yes"}, horizon="1d")
    assert short["status"] == "waiting"
    missing = journeys.api(
        "POST", f"/api/journeys/{journey}/simulate", json={"profile_id": "prf_nobody"}
    )
    assert missing.status_code == 400
    assert "does not exist" in missing.json()["detail"]
