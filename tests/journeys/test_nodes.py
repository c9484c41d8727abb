"""Each kind of node, as a person passes it."""

from __future__ import annotations

from typing import Any

from tests.journeys.conftest import Journeys

USER = "U" + "b" * 32
CART = {
    "name": "cart",
    "category": "marketing",
    "bodies": {"line": {"th": {"messages": [{"type": "text", "text": "โค้ด {{ coupon_code }}"}]}}},
}
OFFER = {
    "name": "offer",
    "category": "marketing",
    "bodies": {
        "line": {
            "th": {
                "messages": [
                    {
                        "type": "text",
                        "text": "ลด {{ journey.coupon.amount | baht }} ถึง "
                        "{{ journey.coupon.expires_at | thai_date }}",
                    }
                ]
            }
        }
    },
}


def on_event(event: str, nodes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"entry": {"type": "event", "event": event}, "start": nodes[0]["id"], "nodes": nodes}


def steps(journeys: Journeys, journey_id: str) -> list[tuple[str, str]]:
    [run] = journeys.runs(journey_id)
    return [(s["node_id"], s["outcome"]) for s in journeys.run(run["id"])["steps"]]


def test_a_branch_follows_the_segment_condition(journeys: Journeys) -> None:
    with_line = journeys.person("Kaew", line_user_id=USER, consents=("line",))
    without = journeys.person("Ton", email="ton@example.com", consents=("email",))
    journey = journeys.publish(
        on_event(
            "Signed Up",
            [
                {
                    "id": "has-line",
                    "type": "branch",
                    "condition": {"identity": "line_user_id"},
                    "yes": "line",
                    "no": "mail",
                },
                {"id": "line", "type": "emit", "event": "Went LINE"},
                {"id": "mail", "type": "emit", "event": "Went Mail"},
            ],
        )
    )
    journeys.track(with_line, "Signed Up")
    journeys.track(without, "Signed Up")
    paths = {
        run["profile_id"]: [(s["node_id"], s["outcome"]) for s in journeys.run(run["id"])["steps"]][
            1:
        ]
        for run in journeys.runs(journey)
    }
    assert paths[with_line] == [("has-line", "yes"), ("line", "emitted")]
    assert paths[without] == [("has-line", "no"), ("mail", "emitted")]


def test_update_profile_and_emit_reach_the_profile(journeys: Journeys) -> None:
    pid = journeys.person("Ploy", line_user_id=USER)
    journey = journeys.publish(
        on_event(
            "Signed Up",
            [
                {
                    "id": "tag",
                    "type": "update_profile",
                    "traits": {"vip_invited": True},
                    "next": "e",
                },
                {"id": "e", "type": "emit", "event": "VIP Invited", "properties": {"tier": "gold"}},
            ],
        )
    )
    journeys.track(pid, "Signed Up")
    profile = journeys.api("GET", f"/api/profiles/{pid}").json()
    assert profile["traits"]["vip_invited"] is True
    timeline = journeys.api("GET", f"/api/profiles/{pid}/events").json()["items"]
    invited = [item for item in timeline if item.get("name") == "VIP Invited"]
    assert len(invited) == 1
    properties = invited[0]["message"]["properties"]
    assert properties["tier"] == "gold"
    assert properties["journeyId"] == journey


def test_a_coupon_reaches_the_template_and_is_used_once(journeys: Journeys) -> None:
    assert journeys.api("POST", "/api/messaging/templates", json=CART).status_code == 201
    pid = journeys.person("Nok", line_user_id=USER, consents=("line",))
    journeys.publish(
        on_event(
            "Checkout Started",
            [
                {"id": "c", "type": "coupon", "amount": 100, "prefix": "BACK", "next": "s"},
                {"id": "s", "type": "send", "template": "cart", "channels": ["line-oa"]},
            ],
        )
    )
    journeys.track(pid, "Checkout Started")
    [text] = journeys.line_texts(to=USER)
    code = text.removeprefix("โค้ด ")
    assert code.startswith("BACK")
    assert len(code) == 14
    coupon = journeys.api("GET", f"/api/journeys/coupons/{code}").json()
    assert coupon["amount"] == 100
    assert coupon["profile_id"] == pid
    assert coupon["redeemed_at"] is None
    redeem = f"/api/journeys/coupons/{code}/redeem"
    first = journeys.api("POST", redeem, json={"order_id": "o-1"})
    assert first.status_code == 200
    assert first.json()["order_id"] == "o-1"
    assert journeys.api("POST", redeem, json={"order_id": "o-1"}).status_code == 200
    again = journeys.api("POST", redeem, json={"order_id": "o-2"})
    assert again.status_code == 409
    assert "used already, for order o-1" in again.json()["detail"]
    missing = journeys.api("POST", "/api/journeys/coupons/NOPE/redeem", json={"order_id": "x"})
    assert missing.status_code == 404


def test_a_coupon_cannot_be_used_after_it_expires(journeys: Journeys) -> None:
    assert journeys.api("POST", "/api/messaging/templates", json=CART).status_code == 201
    pid = journeys.person("Fah", line_user_id=USER, consents=("line",))
    journeys.publish(
        on_event(
            "Checkout Started",
            [
                {"id": "c", "type": "coupon", "percent": 10, "valid_days": 1, "next": "s"},
                {"id": "s", "type": "send", "template": "cart", "channels": ["line-oa"]},
            ],
        )
    )
    journeys.track(pid, "Checkout Started")
    [text] = journeys.line_texts(to=USER)
    code = text.removeprefix("โค้ด ")
    assert journeys.api("GET", f"/api/journeys/coupons/{code}").json()["percent"] == 10
    journeys.wait(days=1, seconds=1)
    expired = journeys.api("POST", f"/api/journeys/coupons/{code}/redeem", json={"order_id": "o"})
    assert expired.status_code == 409
    assert "expired" in expired.json()["detail"]


def test_a_task_is_created_for_the_team_and_can_be_completed(journeys: Journeys) -> None:
    pid = journeys.person("Dao", line_user_id=USER)
    journey = journeys.publish(
        on_event(
            "Complaint Filed",
            [
                {
                    "id": "t",
                    "type": "task",
                    "team": "call-centre",
                    "title": "โทรกลับลูกค้า",
                    "due_in": "4h",
                }
            ],
        )
    )
    journeys.track(pid, "Complaint Filed")
    [task] = journeys.api("GET", "/api/journeys/tasks", params={"team": "call-centre"}).json()
    assert task["title"] == "โทรกลับลูกค้า"
    assert task["profile_id"] == pid
    assert task["journey_id"] == journey
    assert task["status"] == "open"
    assert journeys.api("GET", "/api/journeys/tasks", params={"team": "other"}).json() == []
    done = journeys.api("POST", f"/api/journeys/tasks/{task['id']}/done")
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert journeys.api("GET", "/api/journeys/tasks").json() == []


def test_a_wait_until_fires_at_the_local_time(journeys: Journeys) -> None:
    pid = journeys.person("Boonmee", line_user_id=USER)
    journey = journeys.publish(
        on_event(
            "Signed Up",
            [
                {"id": "nine", "type": "wait_until", "time": "09:00", "next": "hi"},
                {"id": "hi", "type": "emit", "event": "Morning Hello"},
            ],
        )
    )
    # 03:00 UTC is 10:00 in Bangkok: the next 09:00 there is tomorrow at 02:00 UTC.
    journeys.track(pid, "Signed Up")
    [run] = journeys.runs(journey)
    assert run["due_at"].startswith("2026-11-25T02:00:00")
    journeys.wait(hours=22, minutes=59)
    assert journeys.runs(journey)[0]["status"] == "active"
    journeys.wait(minutes=2)
    assert journeys.runs(journey)[0]["status"] == "completed"


def test_a_send_takes_its_templates_category_unless_the_node_says(journeys: Journeys) -> None:
    notice = {**CART, "name": "notice", "category": "transactional"}
    assert journeys.api("POST", "/api/messaging/templates", json=notice).status_code == 201
    pid = journeys.person("Kaew", line_user_id=USER, consents=("line",))
    journeys.publish(
        on_event(
            "Order Shipped",
            [
                {
                    "id": "as-is",
                    "type": "send",
                    "template": "notice",
                    "channels": ["line-oa"],
                    "next": "m",
                },
                {
                    "id": "m",
                    "type": "send",
                    "template": "notice",
                    "channels": ["line-oa"],
                    "category": "marketing",
                },
            ],
        )
    )
    journeys.track(pid, "Order Shipped")
    sent = journeys.api("GET", "/api/messaging/messages", params={"profile_id": pid}).json()
    by_node = {m["idempotency_key"].split(":")[2]: m["category"] for m in sent}
    assert by_node == {"as-is": "transactional", "m": "marketing"}


def test_later_sends_see_the_coupons_value_and_expiry(journeys: Journeys) -> None:
    assert journeys.api("POST", "/api/messaging/templates", json=OFFER).status_code == 201
    pid = journeys.person("Fah", line_user_id=USER, consents=("line",))
    journeys.publish(
        on_event(
            "Checkout Started",
            [
                {"id": "c", "type": "coupon", "amount": 100, "valid_days": 7, "next": "s"},
                {"id": "s", "type": "send", "template": "offer", "channels": ["line-oa"]},
            ],
        )
    )
    journeys.track(pid, "Checkout Started")
    assert journeys.line_texts(to=USER) == ["ลด ฿100 ถึง 1 ธ.ค. 2569"]
