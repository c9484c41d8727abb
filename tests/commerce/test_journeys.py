"""Commerce's events drive journeys: the cart reminder and the delivery messages arrive."""

from __future__ import annotations

from typing import Any

from tests.commerce.conftest import LOCATIONS, PRODUCTS
from tests.journeys.conftest import Journeys
from tests.journeys.conftest import journeys as journeys  # the fixture, with its clock

USER = "U" + "5" * 32
ADDRESS = {"name": "มาลี", "line1": "99 ลาดพร้าว", "latitude": 13.82, "longitude": 100.565}


def _ok(journeys: Journeys, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = journeys.api(method, path, **kwargs)
    assert response.status_code == status, response.text
    return response.json()


def _shop(journeys: Journeys) -> None:
    _ok(journeys, "PUT", "/api/commerce/locations", json=LOCATIONS)
    _ok(journeys, "PUT", "/api/commerce/products", json=PRODUCTS)
    changes = [{"location_id": "BKK04", "sku": "SERUM-C", "kind": "receipt", "quantity": 5}]
    _ok(
        journeys,
        "POST",
        "/api/commerce/stock/updates",
        json={"changes": changes},
        headers={**journeys.kit.ws.auth, "Idempotency-Key": "journeys-stock-1"},
    )


def test_adding_to_the_cart_starts_the_abandoned_cart_journey(journeys: Journeys) -> None:
    _shop(journeys)
    person = journeys.person("Malee", line_user_id=USER, consents=("line",))
    installed = _ok(
        journeys,
        "POST",
        "/api/journeys/playbooks/abandoned_cart/install",
        201,
        json={"publish": True},
    )
    cart = _ok(
        journeys,
        "POST",
        "/api/commerce/carts",
        json={"customer": {"user_id": journeys.user_of(person)}, "channel": "app"},
    )
    item = {"quantity": 1, "channel": "app"}
    _ok(journeys, "PUT", f"/api/commerce/carts/{cart['id']}/items/SERUM-C", json=item)
    journeys.settle()
    journeys.wait(hours=2)
    texts = journeys.line_texts(to=USER)
    assert texts
    assert any("เซรั่มวิตามินซี" in text for text in texts)
    [run] = journeys.runs(installed["id"])
    assert run["profile_id"] == person


def test_shipping_and_delivery_send_the_delivery_messages(journeys: Journeys) -> None:
    _shop(journeys)
    person = journeys.person("Malee", line_user_id=USER, consents=("line",))
    _ok(
        journeys,
        "POST",
        "/api/journeys/playbooks/delivery_updates/install",
        201,
        json={"publish": True, "channels": {"line": "line-oa", "sms": "sms-gw"}},
    )
    user = journeys.user_of(person)
    cart = _ok(
        journeys,
        "POST",
        "/api/commerce/carts",
        json={"customer": {"user_id": user}, "channel": "web"},
    )
    item = {"quantity": 1, "channel": "web"}
    _ok(journeys, "PUT", f"/api/commerce/carts/{cart['id']}/items/SERUM-C", json=item)
    checkout = {"channel": "web", "method": "delivery", "address": ADDRESS}
    order = _ok(journeys, "POST", f"/api/commerce/carts/{cart['id']}/checkout", 201, json=checkout)
    parcel = {"location_id": "BKK04", "carrier": "Kerry Express", "tracking_number": "KEX0099"}
    shipped = _ok(
        journeys, "POST", f"/api/commerce/orders/{order['id']}/shipments", 201, json=parcel
    )
    journeys.settle()
    texts = journeys.line_texts(to=USER)
    assert any("KEX0099" in text and order["id"] in text for text in texts), texts
    shipment = shipped["shipments"][0]["id"]
    _ok(
        journeys, "POST", f"/api/commerce/shipments/{shipment}/status", json={"status": "delivered"}
    )
    journeys.settle()
    delivered = journeys.line_texts(to=USER)
    assert any("ส่งถึงแล้ว" in text for text in delivered), delivered
