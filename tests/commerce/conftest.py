"""A workspace with a small catalogue, four locations and helpers for the commerce API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Workspace

# Bangkok branches about 3-12 km apart, a Nonthaburi warehouse and a pickup point.
LOCATIONS: list[dict[str, Any]] = [
    {
        "id": "BKK01",
        "name": "สาขาสยามพารากอน",
        "kind": "branch",
        "address": "991 ถนนพระราม 1 ปทุมวัน กรุงเทพฯ 10330",
        "latitude": 13.7462,
        "longitude": 100.5347,
        "fulfilment": ["delivery", "click_collect", "in_store"],
        "opening_hours": {"mon": ["10:00", "22:00"], "sun": ["10:00", "22:00"]},
    },
    {
        "id": "BKK04",
        "name": "สาขาเซ็นทรัลลาดพร้าว",
        "kind": "branch",
        "address": "1693 ถนนพหลโยธิน จตุจักร กรุงเทพฯ 10900",
        "latitude": 13.8163,
        "longitude": 100.5606,
        "fulfilment": ["delivery", "click_collect", "in_store"],
    },
    {
        "id": "WH1",
        "name": "คลังสินค้านนทบุรี",
        "kind": "warehouse",
        "address": "บางบัวทอง นนทบุรี",
        "latitude": 13.9095,
        "longitude": 100.4246,
        "fulfilment": ["delivery"],
    },
    {
        "id": "PK1",
        "name": "จุดรับสินค้า BTS อโศก",
        "kind": "pickup_point",
        "latitude": 13.7370,
        "longitude": 100.5603,
        "fulfilment": ["click_collect"],
    },
]

PRODUCTS: list[dict[str, Any]] = [
    {
        "id": "P1",
        "name": "เซรั่มวิตามินซี 15% 30 มล.",
        "name_en": "Vitamin C 15% Serum 30 ml",
        "category": "serum",
        "substitutes": ["P2"],
        "variants": [{"sku": "SERUM-C", "barcode": "8850000000011", "price": "890.00"}],
    },
    {
        "id": "P2",
        "name": "เซรั่มไนอาซินาไมด์ 10% 30 มล.",
        "category": "serum",
        "variants": [{"sku": "SERUM-N", "barcode": "8850000000028", "price": "590.00"}],
    },
    {
        "id": "P3",
        "name": "กันแดดเนื้อน้ำนม SPF50+",
        "category": "sunscreen",
        "variants": [
            {"sku": "SUN-50", "price": "590.00", "lead_time_days": 10},
            {"sku": "SUN-50-MINI", "price": "250.00", "attributes": {"size": "15 ml"}},
        ],
    },
]

# Latitude/longitude of a customer in Lat Phrao, nearest BKK04.
LAT_PHRAO = {"latitude": 13.8200, "longitude": 100.5650}


@dataclass
class Shop:
    """The workspace plus helpers that call the commerce API and check the answer."""

    ws: Workspace

    def api(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        headers = {**self.ws.auth, **kwargs.pop("headers", {})}
        response = self.ws.client.request(method, path, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def stock(self, *changes: tuple[str, str, str, int], key: str | None = None) -> Any:
        """Apply (location, sku, kind, quantity) changes through the bulk API."""
        body = {
            "changes": [
                {"location_id": loc, "sku": sku, "kind": kind, "quantity": qty}
                for loc, sku, kind, qty in changes
            ]
        }
        headers = {"Idempotency-Key": key or f"test-{uuid.uuid4().hex}"}
        return self.api("POST", "/api/commerce/stock/updates", json=body, headers=headers).json()

    def level(self, location: str, sku: str) -> dict[str, Any]:
        rows = self.api("GET", "/api/commerce/stock", params={"location_id": location, "sku": sku})
        found = rows.json()
        return found[0] if found else {"on_hand": 0, "reserved": 0, "available": 0}

    def cart(self, customer: dict[str, Any], channel: str = "web", **extra: Any) -> dict[str, Any]:
        body = {"customer": customer, "channel": channel, **extra}
        return dict(self.api("POST", "/api/commerce/carts", json=body).json())

    def put(self, cart_id: str, sku: str, quantity: int, channel: str = "web") -> dict[str, Any]:
        body = {"quantity": quantity, "channel": channel}
        return dict(self.api("PUT", f"/api/commerce/carts/{cart_id}/items/{sku}", json=body).json())

    def checkout(self, cart_id: str, expect: int = 201, **body: Any) -> Any:
        body.setdefault("channel", "web")
        response = self.api(
            "POST", f"/api/commerce/carts/{cart_id}/checkout", json=body, expect=expect
        )
        return response.json()

    def identify(self, user_id: str, **traits: Any) -> str:
        """Make a known person through the tracking API; return their profile id."""
        body = {"type": "identify", "userId": user_id, "traits": traits}
        sent = self.ws.client.post(
            "/v1/identify", json=body, headers={"X-Write-Key": self.ws.write_key}
        )
        assert sent.status_code == 200, sent.text
        self.ws.drain()
        found = self.api("GET", "/api/profiles/lookup", params={"user_id": user_id})
        return str(found.json()["id"])

    def events(self, profile_id: str) -> list[dict[str, Any]]:
        """Return the person's timeline events, oldest first, after folding new events."""
        self.ws.drain()
        timeline = self.api("GET", f"/api/profiles/{profile_id}/events", params={"limit": 200})
        return list(reversed(timeline.json()["items"]))


@pytest.fixture
def shop(workspace: Workspace) -> Shop:
    shop = Shop(workspace)
    shop.api("PUT", "/api/commerce/locations", json=LOCATIONS)
    shop.api("PUT", "/api/commerce/products", json=PRODUCTS)
    return shop
