"""Campaigns: a segment, A/B variants, a control group, results and uplift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sampan.messaging.campaigns import CONTROL, assign_arm
from tests.messaging.conftest import WELCOME, Kit


def _segment(kit: Kit, tag: str) -> str:
    body = {"name": f"campaign {tag}", "condition": {"trait": "tag", "op": "eq", "value": tag}}
    response = kit.api("POST", "/api/segments", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _campaign(kit: Kit, segment_id: str, **extra: Any) -> dict[str, Any]:
    second = WELCOME | {"name": "welcome-b"}
    second["bodies"] = {"line": {"th": {"messages": [{"type": "text", "text": "โปรพิเศษสำหรับคุณ"}]}}}
    assert kit.api("POST", "/api/messaging/templates", json=second).status_code == 201
    body = {
        "name": "ปีใหม่ 2027",
        "segment_id": segment_id,
        "channels": ["line-oa"],
        "variants": [
            {"name": "A", "template": "welcome", "weight": 1},
            {"name": "B", "template": "welcome-b", "weight": 1},
        ],
        "control_percent": 20,
        "attribution_days": 3,
        **extra,
    }
    response = kit.api("POST", "/api/messaging/campaigns", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_campaign_reaches_its_variants_and_spares_the_control_group(kit: Kit) -> None:
    users = kit.crowd(60, "newyear")
    campaign = _campaign(kit, _segment(kit, "newyear"))
    assert campaign["status"] == "draft"
    launched = kit.api("POST", f"/api/messaging/campaigns/{campaign['id']}/launch")
    assert launched.status_code == 200, launched.text
    kit.dispatch()
    stats = kit.api("GET", f"/api/messaging/campaigns/{campaign['id']}/stats").json()
    arms = {arm["arm"]: arm for arm in stats["arms"]}
    assert sum(arm["targeted"] for arm in arms.values()) == 60
    assert arms[CONTROL]["sent"] == 0
    treated = arms["A"]["targeted"] + arms["B"]["targeted"]
    assert arms["A"]["sent"] + arms["B"]["sent"] == treated == len(kit.line.accepted)
    assert 0 < arms[CONTROL]["targeted"] < 25
    # Launching again sends nobody anything twice.
    again = kit.api("POST", f"/api/messaging/campaigns/{campaign['id']}/launch")
    assert again.status_code == 409
    kit.dispatch()
    assert len(kit.line.accepted) == treated
    # Conversions within the attribution window count, with revenue, per arm.
    orders = [
        {
            "type": "track",
            "userId": user,
            "event": "Order Completed",
            "properties": {"order_id": f"o-{user}", "total": 1500, "currency": "THB"},
        }
        for user in users[:30]
    ]
    response = kit.ws.client.post(
        "/v1/batch", json={"batch": orders}, headers={"X-Write-Key": kit.ws.write_key}
    )
    assert response.status_code == 200
    kit.ws.drain()
    stats = kit.api("GET", f"/api/messaging/campaigns/{campaign['id']}/stats").json()
    total = sum(arm["converted"] for arm in stats["arms"])
    assert total == 30
    assert sum(arm["revenue"] for arm in stats["arms"]) == 30 * 1500
    # Someone who unsubscribes after the launch counts in their arm.
    leaver = kit.profile_of(users[-1])
    withdrawn = {"consents": [{"purpose": "marketing", "channel": "line", "status": "withdrawn"}]}
    response = kit.api("POST", f"/api/privacy/profiles/{leaver}/consents", json=withdrawn)
    assert response.status_code == 201
    stats = kit.api("GET", f"/api/messaging/campaigns/{campaign['id']}/stats").json()
    assert sum(arm["unsubscribed"] for arm in stats["arms"]) == 1
    uplift = {u["arm"]: u for u in stats["uplift"]}
    assert set(uplift) == {"A", "B"}
    for arm in ("A", "B"):
        assert uplift[arm]["ci_low"] <= uplift[arm]["absolute"] <= uplift[arm]["ci_high"]


def test_a_scheduled_campaign_waits_for_its_time(kit: Kit) -> None:
    kit.crowd(5, "later")
    when = datetime.now(UTC) + timedelta(hours=2)
    campaign = _campaign(kit, _segment(kit, "later"), scheduled_at=when.isoformat())
    assert campaign["status"] == "scheduled"
    kit.dispatch()
    assert kit.line.accepted == []
    kit.at(when + timedelta(seconds=1))
    kit.dispatch()
    assert kit.api("GET", f"/api/messaging/campaigns/{campaign['id']}").json()["status"] == "sent"
    assert len(kit.line.accepted) == sum(
        assign_arm(campaign["id"], pid, 20, campaign["variants"]) != CONTROL
        for pid in _members(kit, campaign["segment_id"])
    )


def test_cancelling_stops_queued_messages(kit: Kit) -> None:
    kit.crowd(4, "cancel")
    campaign = _campaign(kit, _segment(kit, "cancel"), control_percent=0)
    kit.api("POST", f"/api/messaging/campaigns/{campaign['id']}/launch")
    cancelled = kit.api("POST", f"/api/messaging/campaigns/{campaign['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    kit.dispatch()
    assert kit.line.accepted == []
    messages = kit.api("GET", "/api/messaging/messages", params={"campaign_id": campaign["id"]})
    assert {m["status"] for m in messages.json()} == {"suppressed"}
    twice = kit.api("POST", f"/api/messaging/campaigns/{campaign['id']}/cancel")
    assert twice.status_code == 409


def test_campaign_input_is_checked(kit: Kit) -> None:
    segment_id = _segment(kit, "checks")
    base = {
        "name": "x",
        "segment_id": segment_id,
        "channels": ["line-oa"],
        "variants": [{"name": "A", "template": "welcome"}],
    }
    cases = [
        ({"channels": ["pigeon"]}, "no channel named pigeon"),
        ({"variants": [{"name": "A", "template": "nope"}]}, "variants[0].template"),
        ({"segment_id": "seg_missing"}, "seg_missing"),
        ({"scheduled_at": "2027-01-01T09:00:00"}, "time zone"),
    ]
    for change, needle in cases:
        response = kit.api("POST", "/api/messaging/campaigns", json=base | change)
        assert response.status_code in (400, 404, 422), response.text
        assert needle in response.text
    too_big = kit.api("POST", "/api/messaging/campaigns", json=base | {"control_percent": 80})
    assert too_big.status_code == 422


def _members(kit: Kit, segment_id: str) -> list[str]:
    response = kit.api("GET", f"/api/segments/{segment_id}/members", params={"limit": 100})
    return [item["profile_id"] for item in response.json()["items"]]


def test_arms_are_stable_and_follow_the_weights() -> None:
    variants = [{"name": "A", "weight": 3}, {"name": "B", "weight": 1}]
    arms = [assign_arm("cmp_1", f"p{i}", 10, variants) for i in range(4000)]
    assert arms == [assign_arm("cmp_1", f"p{i}", 10, variants) for i in range(4000)]
    share = {arm: arms.count(arm) / len(arms) for arm in ("A", "B", CONTROL)}
    assert abs(share[CONTROL] - 0.10) < 0.02
    assert abs(share["A"] - 0.675) < 0.03
    assert abs(share["B"] - 0.225) < 0.03
