"""The shipped playbooks install, publish and run in a workspace with real channels."""

from __future__ import annotations

import pytest

from tests.journeys.conftest import Journeys

USER = "U" + "7" * 32
KEYS = [
    "abandoned_cart",
    "birthday_offer",
    "cross_sell",
    "delivery_updates",
    "first_purchase",
    "hotel_rebooking",
    "nps_survey",
    "vip_invitation",
    "welcome_series",
    "win_back",
]


def test_every_playbook_installs_and_publishes(journeys: Journeys) -> None:
    listed = journeys.api("GET", "/api/journeys/playbooks").json()
    assert sorted(p["key"] for p in listed) == KEYS
    for key in KEYS:
        body = {"channels": {"line": "line-oa", "email": "mail", "sms": "sms-gw"}, "publish": True}
        installed = journeys.api("POST", f"/api/journeys/playbooks/{key}/install", json=body)
        assert installed.status_code == 201, (key, installed.text)
        assert installed.json()["status"] == "live"
    templates = {t["name"] for t in journeys.api("GET", "/api/messaging/templates").json()}
    assert any(name.startswith("pb-abandoned-cart-") for name in templates)
    again = journeys.api("POST", "/api/journeys/playbooks/abandoned_cart/install")
    assert again.status_code == 409
    renamed = journeys.api(
        "POST", "/api/journeys/playbooks/abandoned_cart/install", json={"name": "ตะกร้า 2"}
    )
    assert renamed.status_code == 201
    assert journeys.api("POST", "/api/journeys/playbooks/nope/install").status_code == 404


def test_playbooks_list_the_channel_kinds_and_events_they_use(journeys: Journeys) -> None:
    listed = {p["key"]: p for p in journeys.api("GET", "/api/journeys/playbooks").json()}
    cart = listed["abandoned_cart"]
    assert cart["channels"] == ["line", "email"]
    assert cart["events"] == ["Product Added", "Order Completed"]
    assert listed["birthday_offer"]["channels"] == ["line", "sms", "email"]
    assert listed["delivery_updates"]["channels"] == ["sms", "line"]
    assert listed["delivery_updates"]["events"] == ["Order Shipped", "Order Delivered"]
    # A segment entry reacts to no event of its own; its goal's event is listed.
    assert listed["win_back"]["events"] == ["Order Completed"]
    assert listed["vip_invitation"]["events"] == []


def test_a_playbook_needs_a_channel_it_can_send_on(journeys: Journeys) -> None:
    for name in ("sms-gw",):
        channel = next(
            c for c in journeys.api("GET", "/api/messaging/channels").json() if c["name"] == name
        )
        assert channel["kind"] == "sms"
    wrong = journeys.api(
        "POST",
        "/api/journeys/playbooks/delivery_updates/install",
        json={"channels": {"sms": "line-oa"}},
    )
    assert wrong.status_code == 400
    assert "no sms channel named 'line-oa'" in wrong.json()["detail"]


@pytest.mark.parametrize("bought", [False, True])
def test_the_abandoned_cart_playbook_reminds_with_a_coupon_unless_they_buy(
    journeys: Journeys, bought: bool
) -> None:
    pid = journeys.person("Malee", line_user_id=USER, consents=("line",))
    installed = journeys.api(
        "POST", "/api/journeys/playbooks/abandoned_cart/install", json={"publish": True}
    )
    assert installed.status_code == 201, installed.text
    journeys.track(pid, "Product Added", cart_id="c1", name="เซรั่มวิตามินซี", price=1290)
    journeys.wait(minutes=30)
    if bought:
        journeys.track(pid, "Order Completed", order_id="o1", revenue=1290)
    journeys.wait(minutes=31)
    texts = journeys.line_texts(to=USER)
    if bought:
        assert texts == []
        return
    assert len(texts) >= 1
    [run] = journeys.runs(installed.json()["id"])
    assert run["status"] == "completed"
    coupons = [s for s in journeys.run(run["id"])["steps"] if s["outcome"] == "issued"]
    assert len(coupons) == 1
    assert any("Malee" in text for text in texts)
