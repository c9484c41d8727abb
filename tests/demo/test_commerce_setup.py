"""The demo's shop: branches, warehouse, pickup points, products and stock from the seed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sampan.demo.catalog import BRANCHES, PRODUCTS
from sampan.demo.commerce import (
    WAREHOUSE_ID,
    demo_products,
    ean13,
    install_commerce,
    plan_stock,
)
from tests.conftest import Workspace

SEED = 42


def _get(ws: Workspace, path: str, **params: Any) -> Any:
    response = ws.client.get(f"/api/commerce{path}", headers=ws.auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_demo_sets_up_a_shop_with_stock(workspace: Workspace) -> None:
    ws = workspace
    rt = ws.runtime
    done = install_commerce(rt.db, rt.commerce_env(), seed=SEED)
    assert (done.locations, done.products, done.skus, done.transfers) == (15, 60, 64, 3)

    locations = _get(ws, "/locations")
    assert Counter(loc["kind"] for loc in locations) == {
        "branch": 12,
        "warehouse": 1,
        "pickup_point": 2,
    }
    siam = next(loc for loc in locations if loc["id"] == "BKK01")
    assert (siam["latitude"], siam["longitude"]) == (13.7462, 100.5347)
    assert siam["opening_hours"]["sun"] == ["10:00", "22:00"]
    assert siam["fulfilment"] == ["delivery", "click_collect", "in_store"]
    assert next(loc for loc in locations if loc["id"] == WAREHOUSE_ID)["fulfilment"] == ["delivery"]

    products = _get(ws, "/products", limit=500)
    assert len(products) == 60
    lip = next(p for p in products if p["id"] == "P0027")
    assert [v["attributes"]["shade"] for v in lip["variants"]] == ["Brick", "Red", "Rosewood"]

    # A known SKU, looked up by its barcode: in the warehouse and on most branches' shelves.
    serum = next(p for p in products if p["id"] == "P0001")["variants"][0]
    assert serum["barcode"] == ean13(serum["barcode"][:12])
    found = _get(ws, f"/availability/{serum['barcode']}")
    assert found["sku"] == "SP-SER-0001"
    places = {level["location_id"]: level["available"] for level in found["locations"]}
    assert 200 <= places[WAREHOUSE_ID] <= 500
    assert sum(1 for b in BRANCHES if places.get(b.store_id, 0) > 0) >= 6
    assert found["substitutes"] == []

    # Sold out everywhere: substitutes of the same category, in stock, are offered.
    category = {p.product_id: p.category for p in PRODUCTS}
    sold_category = {p.sku: p.category for p in PRODUCTS}
    for sku in done.sold_out:
        gone = _get(ws, f"/availability/{sku}")
        assert gone["available"] == 0
        assert {level["location_id"] for level in gone["locations"]} >= {WAREHOUSE_ID}
        assert gone["substitutes"]
        for substitute in gone["substitutes"]:
            assert substitute["available"] > 0
            assert category[substitute["product_id"]] == sold_category[sku]

    stock = _get(ws, "/stock", limit=5000)
    assert len(stock) == 13 * 64
    empty_shelves = [s for s in stock if s["location_id"] != WAREHOUSE_ID and s["on_hand"] == 0]
    assert 40 <= len(empty_shelves) <= 160
    in_transit = [s for s in stock if s["incoming"] > 0]
    assert 3 <= len(in_transit) <= 9
    assert all(s["location_id"] != WAREHOUSE_ID and s["on_hand"] == 0 for s in in_transit)

    # Once per workspace: a second run (even with another seed) changes nothing.
    ledger = _get(ws, "/movements", limit=1000)
    again = install_commerce(rt.db, rt.commerce_env(), seed=SEED)
    assert again.skipped
    assert install_commerce(rt.db, rt.commerce_env(), seed=SEED + 1).skipped
    assert _get(ws, "/stock", limit=5000) == stock
    assert _get(ws, "/movements", limit=1000) == ledger


def test_the_stock_plan_follows_the_seed() -> None:
    skus = [v.sku for p in demo_products() for v in p.variants]
    first = plan_stock(skus, seed=SEED)
    assert plan_stock(skus, seed=SEED) == first
    assert plan_stock(skus, seed=SEED + 1) != first
    warehouse = [c for c in first.changes if c.location_id == WAREHOUSE_ID]
    assert len(warehouse) == len(skus)
    assert all(200 <= c.quantity <= 500 for c in warehouse if c.sku not in first.sold_out)
    branch = [c for c in first.changes if c.location_id != WAREHOUSE_ID]
    assert all(0 <= c.quantity <= 40 for c in branch)
    assert len(first.transfers) == 3


def test_every_product_has_substitutes_of_its_category() -> None:
    products = {p.id: p for p in demo_products()}
    barcodes = [v.barcode for p in products.values() for v in p.variants]
    assert len(set(barcodes)) == len(barcodes) == 64
    for product in products.values():
        assert 1 <= len(product.substitutes) <= 2
        assert all(products[s].category == product.category for s in product.substitutes)
