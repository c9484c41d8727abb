"""The home dashboard's figures agree with what was tracked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Workspace


def _send(ws: Workspace, batch: list[dict[str, Any]]) -> None:
    sent = ws.client.post("/v1/batch", json={"batch": batch}, headers={"X-Write-Key": ws.write_key})
    assert sent.status_code == 200, sent.text
    ws.drain()


def test_the_overview_counts_people_channels_funnel_and_revenue(workspace: Workspace) -> None:
    _send(
        workspace,
        [
            {"type": "identify", "userId": "u1", "traits": {"email": "a@example.co.th"}},
            {"type": "identify", "userId": "u2", "traits": {"phone": "0812345678"}},
            {"type": "page", "anonymousId": "visitor-1", "name": "หน้าแรก"},
            {"type": "track", "userId": "u1", "event": "Product Viewed", "properties": {}},
            {
                "type": "track",
                "userId": "u1",
                "event": "Order Completed",
                "properties": {"order_id": "o1", "total": 1290.5},
                "context": {"channel": "pos"},
            },
            {
                "type": "track",
                "userId": "u1",
                "event": "Order Completed",
                "properties": {"order_id": "o2", "total": 500},
                "context": {"channel": "line"},
            },
        ],
    )
    answer = workspace.client.get("/api/analytics/overview", headers=workspace.auth)
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    assert figures["people"] == 3
    assert figures["identified"] == 2
    assert figures["identified_share"] == round(2 / 3, 4)
    assert figures["events_today"] == 6
    channels = {c["channel"]: c["events"] for c in figures["channels_today"]}
    assert channels == {"web": 4, "pos": 1, "line": 1}
    assert [(s["stage"], s["people"]) for s in figures["funnel"]] == [
        ("awareness", 3),
        ("consideration", 1),
        ("purchase", 1),
        ("retention", 1),
        ("advocacy", 0),
    ]
    assert Decimal(figures["revenue"]) == Decimal("1790.50")
    assert figures["orders"] == 2
    assert figures["currency"] == "THB"
    assert figures["live_journeys"] == 0


def test_every_role_that_reads_profiles_may_see_the_overview(workspace: Workspace) -> None:
    for role in ("store_staff", "marketer", "analyst", "service_agent"):
        answer = workspace.client.get("/api/analytics/overview", headers=workspace.key_for(role))
        assert answer.status_code == 200, (role, answer.text)
    assert workspace.client.get("/api/analytics/overview").status_code == 401
