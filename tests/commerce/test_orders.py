"""One cart everywhere, checkout, routing, click & collect, shipments, returns, alerts."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from typing import Any

from tests.commerce.conftest import LAT_PHRAO, Shop

ADDRESS = {"name": "สมหญิง ใจดี", "line1": "99 ซอยลาดพร้าว 71", "postcode": "10230", **LAT_PHRAO}


def _names(shop: Shop, profile_id: str) -> list[str]:
    return [e["name"] for e in shop.events(profile_id) if e["name"]]


def test_app_cart_is_found_by_phone_at_the_till_and_sold_in_store(shop: Shop) -> None:
    """Seed 000: a cart filled in the app is pulled up and paid for in the branch."""
    shop.stock(("BKK01", "SERUM-C", "receipt", 5), ("BKK01", "SUN-50", "receipt", 5))
    line_id = "U" + "a" * 32
    person = shop.identify(
        "member-77", first_name="สมหญิง", phone="+66 81 234 5678", line_user_id=line_id
    )
    cart = shop.cart({"user_id": "member-77"}, channel="app")
    shop.put(cart["id"], "SERUM-C", 2, channel="app")
    shop.put(cart["id"], "SUN-50", 1, channel="app")
    found = shop.api("GET", "/api/commerce/counter", params={"phone": "081-234-5678"}).json()
    assert found["profile_id"] == person
    assert found["display_name"]
    assert found["cart"]["id"] == cart["id"]
    assert [(i["sku"], i["quantity"]) for i in found["cart"]["items"]] == [
        ("SERUM-C", 2),
        ("SUN-50", 1),
    ]
    viewed = shop.api("GET", "/api/audit", params={"action": "profile.viewed"}).json()["items"]
    assert viewed[0]["subject_id"] == person
    assert viewed[0]["detail"]["via"] == "counter"
    by_qr = shop.api("GET", "/api/commerce/counter", params={"qr": "sampan:member:member-77"})
    assert by_qr.json()["cart"]["id"] == cart["id"]
    by_line = shop.api("GET", "/api/commerce/counter", params={"line_user_id": line_id})
    assert by_line.json()["cart"]["id"] == cart["id"]
    nobody = shop.api("GET", "/api/commerce/counter", expect=404, params={"phone": "0899999990"})
    assert "no customer" in nobody.json()["detail"]
    shop.api("GET", "/api/commerce/counter", expect=422)
    same = shop.cart({"phone": "0812345678"}, channel="pos", location_id="BKK01")
    assert same["id"] == cart["id"]
    order = shop.checkout(
        cart["id"],
        channel="pos",
        method="in_store",
        location_id="BKK01",
        payment={"status": "paid", "method": "promptpay", "reference": "PP-1"},
    )
    assert order["status"] == "collected"
    assert order["total"] == "2370.00"
    assert {line["location_id"] for line in order["lines"]} == {"BKK01"}
    assert shop.level("BKK01", "SERUM-C") == {
        **shop.level("BKK01", "SERUM-C"),
        "on_hand": 3,
        "reserved": 0,
    }
    names = _names(shop, person)
    assert names.count("Product Added") == 2
    assert "Order Completed" in names
    assert "Order Picked Up" in names
    profile = shop.api("GET", f"/api/profiles/{person}").json()
    assert profile["computed"]["order_count"] == 1
    shop.api("GET", f"/api/commerce/carts/{cart['id']}")
    again = shop.api(
        "PUT",
        f"/api/commerce/carts/{cart['id']}/items/SERUM-C",
        expect=409,
        json={"quantity": 1, "channel": "app"},
    )
    assert order["id"] in again.json()["detail"]
    fresh = shop.cart({"user_id": "member-77"}, channel="app")
    assert fresh["id"] != cart["id"]
    assert fresh["items"] == []


def test_a_visitors_cart_joins_the_persons_cart_when_they_log_in(shop: Shop) -> None:
    person = shop.identify("member-9", email="kanya@example.co.th")
    mine = shop.cart({"user_id": "member-9"}, channel="web")
    shop.put(mine["id"], "SERUM-N", 1)
    visitor = shop.cart({"anonymous_id": "anon-web-1"}, channel="web")
    assert visitor["profile_id"] is None
    assert visitor["visitor"] == "anonymous_id:anon-web-1"
    shop.put(visitor["id"], "SERUM-N", 2)
    shop.put(visitor["id"], "SUN-50", 1)
    shop.ws.drain()
    attached = shop.api("GET", f"/api/commerce/carts/{visitor['id']}").json()
    assert attached["profile_id"] is not None
    assert attached["profile_id"] != person
    login = {"type": "identify", "userId": "member-9", "anonymousId": "anon-web-1"}
    sent = shop.ws.client.post(
        "/v1/identify", json=login, headers={"X-Write-Key": shop.ws.write_key}
    )
    assert sent.status_code == 200
    shop.ws.drain()
    joined = shop.api("GET", f"/api/commerce/carts/{mine['id']}").json()
    assert [(i["sku"], i["quantity"]) for i in joined["items"]] == [("SERUM-N", 3), ("SUN-50", 1)]
    merged = shop.api("GET", f"/api/commerce/carts/{visitor['id']}").json()
    assert merged["status"] == "merged"
    assert merged["merged_into"] == mine["id"]
    shop.api(
        "PUT",
        f"/api/commerce/carts/{visitor['id']}/items/SUN-50",
        expect=409,
        json={"quantity": 2, "channel": "web"},
    )
    survivor = shop.cart({"anonymous_id": "anon-web-1"})
    assert survivor["id"] == mine["id"]


def test_delivery_goes_to_the_nearest_location_with_everything_and_says_why(shop: Shop) -> None:
    shop.stock(
        ("BKK01", "SERUM-C", "receipt", 5),
        ("BKK01", "SUN-50", "receipt", 5),
        ("BKK04", "SERUM-C", "receipt", 5),
        ("BKK04", "SUN-50", "receipt", 5),
        ("WH1", "SERUM-C", "receipt", 50),
    )
    cart = shop.cart({"anonymous_id": "a-1"})
    shop.put(cart["id"], "SERUM-C", 1)
    shop.put(cart["id"], "SUN-50", 1)
    order = shop.checkout(cart["id"], method="delivery", address=ADDRESS)
    assert {line["location_id"] for line in order["lines"]} == {"BKK04"}
    assert "BKK04" in order["routing"]["explanation"][0]
    assert "nearest" in order["routing"]["explanation"][0]
    assert shop.level("BKK04", "SUN-50")["reserved"] == 1
    considered = [c["location_id"] for c in order["routing"]["considered"]]
    assert considered[0] == "BKK04"


def test_a_split_then_a_backorder_when_no_location_has_everything(shop: Shop) -> None:
    shop.stock(("BKK04", "SERUM-C", "receipt", 1), ("BKK01", "SERUM-C", "receipt", 1))
    shop.stock(("WH1", "SERUM-N", "receipt", 3))
    cart = shop.cart({"anonymous_id": "a-2"})
    shop.put(cart["id"], "SERUM-C", 3)
    shop.put(cart["id"], "SERUM-N", 1)
    shop.put(cart["id"], "SUN-50", 2)
    order = shop.checkout(cart["id"], method="delivery", address=ADDRESS)
    lines = {(ln["sku"], ln["location_id"], ln["status"], ln["quantity"]) for ln in order["lines"]}
    assert ("SERUM-C", "BKK04", "allocated", 1) in lines
    assert ("SERUM-C", "BKK01", "allocated", 1) in lines
    assert ("SERUM-N", "WH1", "allocated", 1) in lines
    assert ("SERUM-C", None, "backordered", 1) in lines
    assert ("SUN-50", None, "backordered", 2) in lines
    sun = next(ln for ln in order["lines"] if ln["sku"] == "SUN-50")
    assert sun["expected_on"]  # product lead time: 10 days
    assert any(
        "back-order: 2 x SUN-50, expected in 10 days" in e for e in order["routing"]["explanation"]
    )
    shop.stock(("WH1", "SUN-50", "receipt", 5), ("WH1", "SERUM-C", "receipt", 5))
    allocated = shop.api("POST", f"/api/commerce/orders/{order['id']}/allocate").json()
    assert all(ln["status"] == "allocated" for ln in allocated["lines"])
    assert shop.level("WH1", "SUN-50")["reserved"] == 2
    shop.api("POST", f"/api/commerce/orders/{order['id']}/allocate", expect=409)


def test_no_backorder_rule_refuses_with_substitutes_and_holds_nothing(shop: Shop) -> None:
    env = shop.ws.state.commerce_env
    rule = env.settings.routing.model_copy(update={"allow_backorder": False})
    shop.ws.state.commerce_env = dataclasses.replace(
        env, settings=env.settings.model_copy(update={"routing": rule})
    )
    shop.stock(("BKK01", "SERUM-N", "receipt", 4), ("BKK01", "SUN-50", "receipt", 1))
    cart = shop.cart({"anonymous_id": "a-3"})
    shop.put(cart["id"], "SERUM-C", 1)
    shop.put(cart["id"], "SUN-50", 1)
    refused = shop.checkout(cart["id"], expect=409, method="delivery", address=ADDRESS)
    [short] = refused["short"]
    assert short["sku"] == "SERUM-C"
    assert short["available"] == 0
    assert [s["sku"] for s in short["substitutes"]] == ["SERUM-N"]
    assert shop.level("BKK01", "SUN-50")["reserved"] == 0
    assert shop.api("GET", f"/api/commerce/carts/{cart['id']}").json()["status"] == "active"


def test_click_and_collect_ships_to_the_branch_then_hands_over_with_the_code(shop: Shop) -> None:
    person = shop.identify("member-5", phone="0899999999")
    shop.stock(("BKK01", "SERUM-C", "receipt", 2), ("WH1", "SUN-50", "receipt", 9))
    cart = shop.cart({"user_id": "member-5"}, channel="line")
    shop.put(cart["id"], "SERUM-C", 1, channel="line")
    shop.put(cart["id"], "SUN-50", 1, channel="line")
    order = shop.checkout(cart["id"], channel="line", method="click_collect", location_id="BKK01")
    by_sku = {ln["sku"]: ln for ln in order["lines"]}
    assert by_sku["SERUM-C"]["location_id"] == "BKK01"
    assert by_sku["SUN-50"]["location_id"] == "WH1"
    picks = shop.api(
        "GET", f"/api/commerce/orders/{order['id']}/pick-list", params={"location_id": "WH1"}
    ).json()
    assert [(p["sku"], p["quantity"]) for p in picks["lines"]] == [("SUN-50", 1)]
    early = shop.api("POST", f"/api/commerce/orders/{order['id']}/ready", expect=409)
    assert "SUN-50" in early.json()["detail"]
    shipped = shop.api(
        "POST",
        f"/api/commerce/orders/{order['id']}/shipments",
        expect=201,
        json={"location_id": "WH1", "carrier": "Kerry Express", "tracking_number": "KEX1"},
    ).json()
    shipment = shipped["shipments"][0]
    assert shipment["to_location_id"] == "BKK01"
    assert shop.level("WH1", "SUN-50")["on_hand"] == 8
    shop.api(
        "POST", f"/api/commerce/shipments/{shipment['id']}/status", json={"status": "delivered"}
    )
    ready = shop.api("POST", f"/api/commerce/orders/{order['id']}/ready").json()
    code = ready["pickup_code"]
    assert len(code) == 6
    assert ready["status"] == "ready_for_pickup"
    assert shop.api("GET", f"/api/commerce/orders/{order['id']}").json()["pickup_code"] is None
    wrong = "000000" if code != "000000" else "111111"
    miss = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/collect", expect=409, json={"code": wrong}
    )
    assert "4 attempt(s) left" in miss.json()["detail"]
    done = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/collect", json={"code": code}
    ).json()
    assert done["status"] == "collected"
    assert shop.level("BKK01", "SERUM-C")["on_hand"] == 1
    events = [e for e in shop.events(person) if e["name"] == "Order Ready For Pickup"]
    assert events[0]["message"]["properties"]["pickup_code"] == code
    assert events[0]["message"]["properties"]["location_name"] == "สาขาสยามพารากอน"
    assert "Order Picked Up" in _names(shop, person)


def test_wrong_pickup_codes_lock_the_order_until_a_new_code(shop: Shop) -> None:
    shop.stock(("BKK01", "SERUM-C", "receipt", 2))
    cart = shop.cart({"anonymous_id": "a-5"})
    shop.put(cart["id"], "SERUM-C", 1)
    order = shop.checkout(cart["id"], method="click_collect", location_id="BKK01")
    code = shop.api("POST", f"/api/commerce/orders/{order['id']}/ready").json()["pickup_code"]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        shop.api(
            "POST", f"/api/commerce/orders/{order['id']}/collect", expect=409, json={"code": wrong}
        )
    locked = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/collect", expect=409, json={"code": code}
    )
    assert "wrong 5 times" in locked.json()["detail"]
    new = shop.api("POST", f"/api/commerce/orders/{order['id']}/ready").json()["pickup_code"]
    shop.api("POST", f"/api/commerce/orders/{order['id']}/collect", json={"code": new})


def test_pickup_needs_a_branch_that_offers_it(shop: Shop) -> None:
    cart = shop.cart({"anonymous_id": "a-6"})
    shop.put(cart["id"], "SERUM-C", 1)
    refused = shop.checkout(cart["id"], expect=409, method="click_collect", location_id="WH1")
    assert "does not offer click_collect" in refused["detail"]
    unknown = shop.checkout(cart["id"], expect=422, method="click_collect", location_id="NOPE")
    assert unknown["unknown_locations"] == ["NOPE"]
    shop.checkout(cart["id"], expect=422, method="delivery")
    branch = shop.checkout(
        cart["id"], expect=422, method="delivery", location_id="BKK01", address=ADDRESS
    )
    assert "location_id is for click_collect" in str(branch)


def _signed(shop: Shop, body: dict[str, Any], secret: str | None) -> Any:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Sampan-Signature"] = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return shop.ws.client.post("/webhooks/commerce/carrier", content=raw, headers=headers)


def test_shipments_and_carrier_webhook_tell_the_customer(shop: Shop) -> None:
    env = shop.ws.state.commerce_env
    shop.ws.state.commerce_env = dataclasses.replace(
        env, settings=env.settings.model_copy(update={"carrier_webhook_secret": "s3cret"})
    )
    person = shop.identify("member-8", phone="0811111111")
    shop.stock(("BKK04", "SERUM-C", "receipt", 3))
    cart = shop.cart({"user_id": "member-8"})
    shop.put(cart["id"], "SERUM-C", 2)
    order = shop.checkout(cart["id"], method="delivery", address=ADDRESS)
    shipped = shop.api(
        "POST",
        f"/api/commerce/orders/{order['id']}/shipments",
        expect=201,
        json={
            "location_id": "BKK04",
            "carrier": "Flash Express",
            "tracking_number": "TH0123456789",
            "tracking_url": "https://flashexpress.example/track/TH0123456789",
        },
    ).json()
    assert shipped["status"] == "shipped"
    assert shop.level("BKK04", "SERUM-C") | {} == {
        **shop.level("BKK04", "SERUM-C"),
        "on_hand": 1,
        "reserved": 0,
    }
    update = {"carrier": "Flash Express", "tracking_number": "TH0123456789", "status": "delivered"}
    assert _signed(shop, update, None).status_code == 401
    assert _signed(shop, update, "wrong").status_code == 401
    unknown = {**update, "tracking_number": "NOPE"}
    assert _signed(shop, unknown, "s3cret").status_code == 404
    delivered = _signed(shop, update, "s3cret")
    assert delivered.status_code == 200, delivered.text
    assert delivered.json() == {"shipment_id": shipped["shipments"][0]["id"], "status": "delivered"}
    assert _signed(shop, update, "s3cret").status_code == 200  # a repeat changes nothing
    events = {e["name"]: e["message"]["properties"] for e in shop.events(person) if e["name"]}
    assert events["Order Shipped"]["tracking_number"] == "TH0123456789"
    assert events["Order Shipped"]["carrier"] == "Flash Express"
    assert events["Order Delivered"]["order_id"] == order["id"]
    done = shop.api("GET", f"/api/commerce/orders/{order['id']}").json()
    assert done["status"] == "delivered"
    timeline = [t["status"] for t in done["timeline"]]
    assert timeline == ["placed", "shipped", "shipment_delivered"]
    shop.api("POST", f"/api/commerce/orders/{order['id']}/cancel", expect=409, json={"reason": "x"})


def test_returns_restock_refund_and_exchange_all_or_nothing(shop: Shop) -> None:
    person = shop.identify("member-3", phone="0822222222")
    shop.stock(("BKK01", "SERUM-C", "receipt", 3), ("BKK01", "SERUM-N", "receipt", 1))
    cart = shop.cart({"user_id": "member-3"}, channel="pos", location_id="BKK01")
    shop.put(cart["id"], "SERUM-C", 2, channel="pos")
    order = shop.checkout(cart["id"], channel="pos", method="in_store", location_id="BKK01")
    too_many = {"lines": [{"sku": "SERUM-C", "quantity": 3}], "location_id": "BKK01"}
    refused = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/returns", expect=409, json=too_many
    ).json()
    assert refused["returnable"] == 2
    no_stock = {
        "lines": [{"sku": "SERUM-C", "quantity": 1}],
        "location_id": "BKK01",
        "exchange": [{"sku": "SUN-50", "quantity": 1}],
    }
    shop.api("POST", f"/api/commerce/orders/{order['id']}/returns", expect=409, json=no_stock)
    assert shop.level("BKK01", "SERUM-C")["on_hand"] == 1  # nothing came back
    exchange = {
        "lines": [{"sku": "SERUM-C", "quantity": 1}],
        "location_id": "BKK01",
        "reason": "แพ้ง่าย ขอเปลี่ยนเป็นสูตรอ่อนโยน",
        "exchange": [{"sku": "SERUM-N", "quantity": 1}],
    }
    returned = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/returns", expect=201, json=exchange
    ).json()
    [record] = returned["returns"]
    assert record["refund"] == "890.00"
    assert record["exchange_order_id"]
    assert returned["payment_status"] == "partially_refunded"
    assert shop.level("BKK01", "SERUM-C")["on_hand"] == 2
    assert shop.level("BKK01", "SERUM-N")["on_hand"] == 0
    ledger = shop.api("GET", "/api/commerce/movements", params={"location_id": "BKK01"}).json()
    assert [(m["sku"], m["kind"]) for m in ledger[:2]] == [
        ("SERUM-N", "sale"),
        ("SERUM-C", "return"),
    ]
    rest = {"lines": [{"sku": "SERUM-C", "quantity": 1}], "location_id": "BKK01"}
    full = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/returns", expect=201, json=rest
    ).json()
    assert full["payment_status"] == "refunded"
    assert full["payment"]["status"] == "refunded"
    swap = shop.api("GET", f"/api/commerce/orders/{record['exchange_order_id']}").json()
    assert swap["exchange_of"] == order["id"]
    assert swap["status"] == "collected"
    names = _names(shop, person)
    assert "Order Refunded" in names
    assert "Order Exchanged" in names
    shop.api("POST", "/api/commerce/orders/ord_nope/returns", expect=404, json=too_many)


def test_cancel_puts_held_units_back_on_sale(shop: Shop) -> None:
    shop.stock(("BKK04", "SERUM-C", "receipt", 2))
    cart = shop.cart({"anonymous_id": "a-7"})
    shop.put(cart["id"], "SERUM-C", 2)
    order = shop.checkout(cart["id"], method="delivery", address=ADDRESS)
    assert shop.level("BKK04", "SERUM-C")["available"] == 0
    cancelled = shop.api(
        "POST", f"/api/commerce/orders/{order['id']}/cancel", json={"reason": "ลูกค้าเปลี่ยนใจ"}
    ).json()
    assert cancelled["status"] == "cancelled"
    assert shop.level("BKK04", "SERUM-C")["available"] == 2
    shop.api("POST", f"/api/commerce/orders/{order['id']}/cancel", expect=409, json={})


def test_checkout_is_idempotent_and_refuses_empty_or_spent_carts(shop: Shop) -> None:
    shop.stock(("BKK04", "SERUM-C", "receipt", 5))
    cart = shop.cart({"anonymous_id": "a-8"})
    empty = shop.checkout(cart["id"], expect=409, method="delivery", address=ADDRESS)
    assert "empty" in empty["detail"]
    shop.put(cart["id"], "SERUM-C", 1)
    body = {"channel": "web", "method": "delivery", "address": ADDRESS}
    key = {"Idempotency-Key": "checkout-a-8-1"}
    first = shop.api(
        "POST", f"/api/commerce/carts/{cart['id']}/checkout", expect=201, json=body, headers=key
    )
    again = shop.api(
        "POST", f"/api/commerce/carts/{cart['id']}/checkout", expect=201, json=body, headers=key
    )
    assert first.json()["id"] == again.json()["id"]
    other = {**body, "address": {**ADDRESS, "line1": "อีกที่หนึ่ง"}}
    reused = shop.api(
        "POST",
        f"/api/commerce/carts/{cart['id']}/checkout",
        expect=422,
        json=other,
        headers=key,
    )
    assert "different checkout" in reused.json()["detail"]
    assert shop.level("BKK04", "SERUM-C")["reserved"] == 1
    spent = shop.checkout(cart["id"], expect=409, method="delivery", address=ADDRESS)
    assert first.json()["id"] in spent["detail"]
    other = shop.cart({"anonymous_id": "a-8b"})
    shop.api(
        "PUT",
        f"/api/commerce/carts/{other['id']}/items/NOPE",
        expect=422,
        json={"quantity": 1, "channel": "web"},
    )
    shop.api("POST", "/api/commerce/carts/crt_nope/checkout", expect=404, json=body)
    shop.api("POST", "/api/commerce/carts", expect=422, json={"customer": {}, "channel": "web"})
    unknown = shop.api(
        "POST",
        "/api/commerce/carts",
        expect=404,
        json={"customer": {"phone": "0800000000"}, "channel": "pos"},
    )
    assert "anonymous_id" in unknown.json()["detail"]


def test_back_in_stock_subscribers_are_told_once(shop: Shop) -> None:
    person = shop.identify("member-4", email="nok@example.co.th")
    body = {"customer": {"email": "nok@example.co.th"}, "sku": "SERUM-C"}
    alert = shop.api("POST", "/api/commerce/stock-alerts", expect=201, json=body).json()
    same = shop.api("POST", "/api/commerce/stock-alerts", expect=201, json=body).json()
    assert same["id"] == alert["id"]
    shop.stock(("BKK01", "SERUM-C", "receipt", 3))
    shop.stock(("BKK01", "SERUM-C", "receipt", 3))
    told = [e for e in shop.events(person) if e["name"] == "Back In Stock"]
    assert len(told) == 1
    assert told[0]["message"]["properties"]["sku"] == "SERUM-C"
    visitor = {"customer": {"anonymous_id": "never-seen"}, "sku": "SERUM-C"}
    shop.api("POST", "/api/commerce/stock-alerts", expect=404, json=visitor)


def test_a_visitors_order_follows_them_into_their_account(shop: Shop) -> None:
    person = shop.identify("member-12", email="pim@example.co.th")
    shop.stock(("BKK04", "SERUM-C", "receipt", 2))
    cart = shop.cart({"anonymous_id": "guest-12"})
    shop.put(cart["id"], "SERUM-C", 1)
    order = shop.checkout(cart["id"], method="delivery", address=ADDRESS)
    assert order["profile_id"] is None
    login = {"type": "identify", "userId": "member-12", "anonymousId": "guest-12"}
    sent = shop.ws.client.post(
        "/v1/identify", json=login, headers={"X-Write-Key": shop.ws.write_key}
    )
    assert sent.status_code == 200
    shop.ws.drain()
    mine = shop.api("GET", f"/api/commerce/orders/{order['id']}").json()
    assert mine["profile_id"] == person
    counter = shop.api("GET", "/api/commerce/counter", params={"email": "pim@example.co.th"})
    assert [o["id"] for o in counter.json()["orders"]] == [order["id"]]
    assert "Order Completed" in _names(shop, person)


def test_the_customer_360_reads_a_persons_orders_and_cart(shop: Shop) -> None:
    person = shop.identify("member-360", phone="0833333333")
    shop.stock(("BKK04", "SERUM-C", "receipt", 3))
    assert shop.api("GET", "/api/commerce/carts", params={"profile_id": person}).json() is None
    cart = shop.cart({"user_id": "member-360"})
    shop.put(cart["id"], "SERUM-C", 1)
    order = shop.checkout(cart["id"], method="click_collect", location_id="BKK04")
    orders = shop.api("GET", "/api/commerce/orders", params={"profile_id": person}).json()
    assert [o["id"] for o in orders] == [order["id"]]
    fresh = shop.cart({"user_id": "member-360"}, channel="line")
    shop.put(fresh["id"], "SERUM-C", 1, channel="line")
    current = shop.api("GET", "/api/commerce/carts", params={"profile_id": person}).json()
    assert current["id"] == fresh["id"]
    shop.api("GET", "/api/commerce/orders", expect=404, params={"profile_id": "prf_nope"})
    shop.api("GET", "/api/commerce/orders", expect=422)


def test_a_carrier_post_that_is_not_an_update_is_refused_and_changes_nothing(shop: Shop) -> None:
    env = shop.ws.state.commerce_env
    shop.ws.state.commerce_env = dataclasses.replace(
        env, settings=env.settings.model_copy(update={"carrier_webhook_secret": "s3cret"})
    )
    for body in (
        {"carrier": "Flash"},
        {"carrier": "Flash", "tracking_number": "X", "status": "lost"},
    ):
        answer = _signed(shop, body, "s3cret")
        assert answer.status_code == 400, answer.text
        assert "not a carrier update" in answer.json()["detail"]
    raw = b"not json"
    signature = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    garbled = shop.ws.client.post(
        "/webhooks/commerce/carrier", content=raw, headers={"X-Sampan-Signature": signature}
    )
    assert garbled.status_code == 400


def test_stock_alerts_name_unknown_skus_and_locations(shop: Shop) -> None:
    shop.identify("member-alert", email="alert@example.co.th")
    customer = {"email": "alert@example.co.th"}
    unknown = shop.api(
        "POST", "/api/commerce/stock-alerts", expect=422, json={"customer": customer, "sku": "NOPE"}
    ).json()
    assert unknown["unknown_skus"] == ["NOPE"]
    body = {"customer": customer, "sku": "SERUM-C", "location_id": "XX"}
    nowhere = shop.api("POST", "/api/commerce/stock-alerts", expect=422, json=body).json()
    assert nowhere["unknown_locations"] == ["XX"]
