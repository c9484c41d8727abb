"""Stock through the POS/ERP API: idempotent bulk updates, precise refusals, transfers."""

from __future__ import annotations

import uuid

from tests.commerce.conftest import Shop


def _bulk(shop: Shop, changes: list[dict[str, object]], key: str, expect: int = 200) -> dict:
    return dict(
        shop.api(
            "POST",
            "/api/commerce/stock/updates",
            expect=expect,
            json={"changes": changes},
            headers={"Idempotency-Key": key},
        ).json()
    )


def test_bulk_update_applies_once_per_key_and_refuses_a_reused_key(shop: Shop) -> None:
    changes = [
        {"location_id": "BKK01", "sku": "SERUM-C", "kind": "receipt", "quantity": 12},
        {"location_id": "BKK01", "sku": "SERUM-N", "kind": "receipt", "quantity": 4},
    ]
    first = _bulk(shop, changes, "pos-BKK01-0001")
    assert first["applied"] == 2
    assert first["replayed"] is False
    again = _bulk(shop, changes, "pos-BKK01-0001")
    assert again["replayed"] is True
    assert again["levels"] == first["levels"]
    assert shop.level("BKK01", "SERUM-C")["on_hand"] == 12
    changed = [{**changes[0], "quantity": 13}]
    refused = _bulk(shop, changed, "pos-BKK01-0001", expect=422)
    assert "different request" in refused["detail"]
    assert shop.level("BKK01", "SERUM-C")["on_hand"] == 12
    shop.api(
        "POST", "/api/commerce/stock/updates", expect=422, json={"changes": changes}
    )  # no Idempotency-Key header


def test_unknown_skus_and_locations_are_named_and_nothing_is_applied(shop: Shop) -> None:
    changes = [
        {"location_id": "BKK01", "sku": "SERUM-C", "kind": "receipt", "quantity": 5},
        {"location_id": "BKK99", "sku": "SERUM-C", "kind": "receipt", "quantity": 5},
        {"location_id": "BKK01", "sku": "NO-SUCH", "kind": "receipt", "quantity": 5},
    ]
    refused = _bulk(shop, changes, f"k-{uuid.uuid4().hex}", expect=422)
    assert refused["unknown_skus"] == ["NO-SUCH"]
    assert refused["unknown_locations"] == ["BKK99"]
    assert shop.level("BKK01", "SERUM-C")["on_hand"] == 0
    pickup = [{"location_id": "PK1", "sku": "SERUM-C", "kind": "receipt", "quantity": 1}]
    assert "pickup points" in _bulk(shop, pickup, f"k-{uuid.uuid4().hex}", expect=422)["detail"]
    negative = [{"location_id": "BKK01", "sku": "SERUM-C", "kind": "receipt", "quantity": -1}]
    _bulk(shop, negative, f"k-{uuid.uuid4().hex}", expect=422)


def test_selling_more_than_available_is_409_with_where_else_and_half_applies_nothing(
    shop: Shop,
) -> None:
    shop.stock(("BKK01", "SERUM-C", "receipt", 3), ("BKK04", "SERUM-C", "receipt", 7))
    shop.stock(("WH1", "SERUM-C", "receipt", 2))
    changes = [
        {"location_id": "BKK01", "sku": "SERUM-N", "kind": "receipt", "quantity": 9},
        {"location_id": "BKK01", "sku": "SERUM-C", "kind": "sale", "quantity": 5},
    ]
    refused = _bulk(shop, changes, f"k-{uuid.uuid4().hex}", expect=409)
    [short] = refused["short"]
    assert short["location_id"] == "BKK01"
    assert short["sku"] == "SERUM-C"
    assert short["wanted"] == 5
    assert short["available"] == 3
    assert short["elsewhere"] == [
        {"location_id": "BKK04", "available": 7},
        {"location_id": "WH1", "available": 2},
    ]
    assert "3 available" in refused["detail"]
    assert shop.level("BKK01", "SERUM-N")["on_hand"] == 0  # the receipt was taken back too


def test_counts_and_adjustments_are_in_the_ledger(shop: Shop) -> None:
    shop.stock(("BKK01", "SUN-50", "receipt", 10))
    shop.stock(("BKK01", "SUN-50", "sale", 2), ("BKK01", "SUN-50", "adjustment", -1))
    shop.stock(("BKK01", "SUN-50", "count", 5))
    shop.stock(("BKK01", "SUN-50", "return", 1))
    level = shop.level("BKK01", "SUN-50")
    assert level["on_hand"] == 6
    ledger = shop.api(
        "GET", "/api/commerce/movements", params={"location_id": "BKK01", "sku": "SUN-50"}
    ).json()
    assert [(m["kind"], m["quantity"], m["on_hand_after"]) for m in reversed(ledger)] == [
        ("receipt", 10, 10),
        ("sale", -2, 8),
        ("adjustment", -1, 7),
        ("count", -2, 5),
        ("return", 1, 6),
    ]
    assert sum(m["quantity"] for m in ledger) == level["on_hand"]


def test_transfers_keep_units_in_transit_until_received(shop: Shop) -> None:
    shop.stock(("WH1", "SERUM-C", "receipt", 10))
    body = {
        "from_location_id": "WH1",
        "to_location_id": "BKK01",
        "lines": [{"sku": "SERUM-C", "quantity": 4}],
        "reference": "TR-2026-11-001",
    }
    transfer = shop.api("POST", "/api/commerce/transfers", expect=201, json=body).json()
    assert transfer["status"] == "in_transit"
    assert shop.level("WH1", "SERUM-C")["on_hand"] == 6
    arriving = shop.level("BKK01", "SERUM-C")
    assert (arriving["on_hand"], arriving["incoming"]) == (0, 4)
    received = shop.api("POST", f"/api/commerce/transfers/{transfer['id']}/receive").json()
    assert received["status"] == "received"
    arrived = shop.level("BKK01", "SERUM-C")
    assert (arrived["on_hand"], arrived["incoming"]) == (4, 0)
    twice = shop.api("POST", f"/api/commerce/transfers/{transfer['id']}/receive", expect=409)
    assert "received already" in twice.json()["detail"]
    kinds = [
        m["kind"]
        for m in shop.api("GET", "/api/commerce/movements", params={"sku": "SERUM-C"}).json()
    ]
    assert kinds[:2] == ["transfer_in", "transfer_out"]
    too_many = {**body, "lines": [{"sku": "SERUM-C", "quantity": 7}]}
    refused = shop.api("POST", "/api/commerce/transfers", expect=409, json=too_many).json()
    assert refused["short"][0]["available"] == 6
    same = {**body, "to_location_id": "WH1"}
    shop.api("POST", "/api/commerce/transfers", expect=422, json=same)
    pickup = {**body, "to_location_id": "PK1", "lines": [{"sku": "SERUM-C", "quantity": 1}]}
    assert (
        "pickup points"
        in shop.api("POST", "/api/commerce/transfers", expect=422, json=pickup).json()["detail"]
    )
    listed = shop.api(
        "GET", "/api/commerce/transfers", params={"location_id": "BKK01", "status": "received"}
    ).json()
    assert [t["id"] for t in listed] == [transfer["id"]]
    assert shop.api("GET", "/api/commerce/transfers", params={"status": "in_transit"}).json() == []
    shop.api("POST", "/api/commerce/transfers/trf_nope/receive", expect=404)


def test_availability_by_barcode_offers_substitutes_when_out(shop: Shop) -> None:
    shop.stock(("BKK04", "SERUM-N", "receipt", 3))
    out = shop.api("GET", "/api/commerce/availability/8850000000011").json()
    assert out["sku"] == "SERUM-C"
    assert out["available"] == 0
    assert [(s["sku"], s["available"]) for s in out["substitutes"]] == [("SERUM-N", 3)]
    shop.stock(("BKK01", "SERUM-C", "receipt", 2))
    back = shop.api("GET", "/api/commerce/availability/SERUM-C").json()
    assert back["available"] == 2
    assert back["substitutes"] == []
    assert [loc["location_id"] for loc in back["locations"]] == ["BKK01"]
    shop.api("GET", "/api/commerce/availability/NOPE", expect=404)
    # Out at the branch the customer stands in, though the other branch has it.
    here = shop.api(
        "GET", "/api/commerce/availability/SERUM-C", params={"location_id": "BKK04"}
    ).json()
    assert (here["available"], here["available_here"]) == (2, 0)
    assert [(s["sku"], s["available"]) for s in here["substitutes"]] == [("SERUM-N", 3)]
    shop.api("GET", "/api/commerce/availability/SERUM-C", expect=422, params={"location_id": "X"})
