"""Catalogue and locations: JSON and CSV import, all or nothing, precise problems."""

from __future__ import annotations

from tests.commerce.conftest import Shop

PRODUCTS_CSV = """product_id,name,name_en,category,sku,barcode,price,substitutes,attr:shade,active
L1,ลิปแมท สีอิฐ,Velvet Matte Lip,makeup,LIP-BRICK,8850000000103,359,L2,อิฐ,
L1,ลิปแมท สีอิฐ,Velvet Matte Lip,makeup,LIP-ROSE,8850000000110,"1,359.50",L2,กุหลาบ,yes
L2,ลิปทินท์ สีพีช,Glow Lip Tint,makeup,TINT-PEACH,,299,,,no
"""

LOCATIONS_CSV = (
    "id,name,kind,address,latitude,longitude,fulfilment,hours\n"
    "CNX01,สาขาเมญ่า เชียงใหม่,branch,ถนนห้วยแก้ว เชียงใหม่,18.8023,98.9673,"
    "delivery;click_collect,mon-fri 10:00-21:00; sat-sun 10:00-22:00\n"
    "PK9,จุดรับสินค้า,pickup_point,,,,click_collect,\n"
)


def test_products_import_from_csv_with_variants_attributes_and_thai(shop: Shop) -> None:
    result = shop.api(
        "POST",
        "/api/commerce/products/import",
        content=PRODUCTS_CSV.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert result == {"created": 2, "updated": 0}
    lip = shop.api("GET", "/api/commerce/products/L1").json()
    assert lip["name"] == "ลิปแมท สีอิฐ"
    assert lip["substitutes"] == ["L2"]
    assert [(v["sku"], v["price"], v["attributes"]) for v in lip["variants"]] == [
        ("LIP-BRICK", "359.00", {"shade": "อิฐ"}),
        ("LIP-ROSE", "1359.50", {"shade": "กุหลาบ"}),
    ]
    again = shop.api(
        "POST",
        "/api/commerce/products/import",
        content=PRODUCTS_CSV.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert again == {"created": 0, "updated": 2}
    tint = shop.api("GET", "/api/commerce/products/L2").json()
    assert tint["variants"][0]["active"] is False
    found = shop.api("GET", "/api/commerce/products", params={"q": "8850000000110"}).json()
    assert [p["id"] for p in found] == ["L1"]
    assert [p["id"] for p in shop.api("GET", "/api/commerce/products", params={"q": "ลิป"}).json()]


def test_a_bad_products_csv_names_every_row_and_imports_nothing(shop: Shop) -> None:
    bad = (
        "product_id,name,sku,price,lead_time_days\n"
        "X1,ครีม,X-1,abc,\n"
        "X2,,X-2,10,\n"
        "X3,โลชั่น,X-3,-5,\n"
        "X4,สบู่,X-4,10,soon\n"
    )
    response = shop.api(
        "POST",
        "/api/commerce/products/import",
        expect=422,
        content=bad.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    problems = {(p["row"], p["field"]) for p in response["problems"]}
    assert {(2, "price"), (3, "name"), (5, "lead_time_days")} <= problems
    assert any(p["row"] == 4 for p in response["problems"])
    assert "nothing was imported" in response["detail"]
    assert shop.api("GET", "/api/commerce/products/X1", expect=404)


def test_csv_without_required_columns_or_not_utf8_is_refused(shop: Shop) -> None:
    missing = shop.api(
        "POST",
        "/api/commerce/products/import",
        expect=422,
        content=b"id,name\n1,x\n",
        headers={"Content-Type": "text/csv"},
    ).json()
    assert missing["missing_columns"] == ["product_id", "sku", "price"]
    latin = shop.api(
        "POST",
        "/api/commerce/products/import",
        expect=400,
        content="product_id,name,sku,price\nA,ครีม,A1,1\n".encode("tis-620"),
        headers={"Content-Type": "text/csv"},
    )
    assert "UTF-8" in latin.json()["detail"]


def test_products_that_clash_or_name_unknown_substitutes_are_refused(shop: Shop) -> None:
    clash = [{"id": "P9", "name": "x", "variants": [{"sku": "SERUM-C", "price": "1"}]}]
    refused = shop.api("PUT", "/api/commerce/products", expect=422, json=clash).json()
    assert "SERUM-C" in refused["detail"]
    barcode = [
        {
            "id": "P9",
            "name": "x",
            "variants": [{"sku": "N1", "price": "1", "barcode": "8850000000011"}],
        }
    ]
    assert (
        "8850000000011"
        in shop.api("PUT", "/api/commerce/products", expect=422, json=barcode).json()["detail"]
    )
    unknown = [
        {
            "id": "P9",
            "name": "x",
            "substitutes": ["NOPE"],
            "variants": [{"sku": "N1", "price": "1"}],
        }
    ]
    assert shop.api("PUT", "/api/commerce/products", expect=422, json=unknown).json()[
        "unknown_products"
    ] == ["NOPE"]
    negative = [{"id": "P9", "name": "x", "variants": [{"sku": "N1", "price": "-1"}]}]
    shop.api("PUT", "/api/commerce/products", expect=422, json=negative)


def test_locations_import_from_csv_with_hours_and_checks(shop: Shop) -> None:
    result = shop.api(
        "POST",
        "/api/commerce/locations/import",
        content=LOCATIONS_CSV.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert result == {"created": 2, "updated": 0}
    found = {loc["id"]: loc for loc in shop.api("GET", "/api/commerce/locations").json()}
    assert found["CNX01"]["opening_hours"]["sat"] == ["10:00", "22:00"]
    assert found["CNX01"]["opening_hours"]["mon"] == ["10:00", "21:00"]
    assert "sun" in found["CNX01"]["opening_hours"]
    assert found["PK9"]["kind"] == "pickup_point"
    pickup = shop.api("GET", "/api/commerce/locations", params={"kind": "pickup_point"}).json()
    assert {loc["id"] for loc in pickup} == {"PK1", "PK9"}
    bad = (
        "id,name,kind,latitude,longitude,hours\nX,x,shop,13.7,,fri-mon 10:00-20:00\nY,y,branch,,,\n"
    )
    response = shop.api(
        "POST",
        "/api/commerce/locations/import",
        expect=422,
        content=bad.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert response["problems"][0]["row"] == 2
    assert "backwards" in response["problems"][0]["problem"]
    ships = [{"id": "Z", "name": "z", "kind": "pickup_point", "fulfilment": ["delivery"]}]
    shop.api("PUT", "/api/commerce/locations", expect=422, json=ships)


def test_catalogue_changes_need_commerce_manage(shop: Shop) -> None:
    staff = shop.ws.key_for("store_staff")
    shop.api("PUT", "/api/commerce/products", expect=403, json=[], headers=staff)
    shop.api("GET", "/api/commerce/products", headers=staff)
    analyst = shop.ws.key_for("analyst")
    shop.api("POST", "/api/commerce/carts", expect=403, headers=analyst, json={})
