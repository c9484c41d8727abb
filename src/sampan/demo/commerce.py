"""The demo shop's commerce data: branches, a warehouse, pickup points, products and stock.

Everything goes through commerce's public service in one transaction. The stock comes from
the demo seed, so one seed always gives the same shelves: the warehouse holds most of the
range, each branch a few dozen units per SKU with about one shelf in ten empty, a couple of
SKUs are sold out everywhere (so substitutes are offered) and three restocking transfers
from the warehouse are on the road. Running the set-up again changes nothing: it stops when
the demo's products and locations exist, and the stock goes in under an idempotency key.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sampan.commerce import service as commerce
from sampan.commerce.schemas import (
    DAYS,
    BulkStockIn,
    CommerceEnv,
    Fulfilment,
    Line,
    LocationIn,
    ProductIn,
    StockChange,
    TransferIn,
    VariantIn,
)
from sampan.db.engine import Database
from sampan.demo.catalog import BRANCHES, PRODUCTS, Product

WAREHOUSE_ID = "WH-BKK"
ALL_FULFILMENT: list[Fulfilment] = ["delivery", "click_collect", "in_store"]
BARCODE_PREFIX = "885"  # GS1 Thailand
SOLD_OUT_SKUS = 2
TRANSFERS = 3
# Enough to see every product a demo workspace could hold.
LISTING_LIMIT = 100_000


@dataclass(frozen=True)
class Site:
    """Where a location is: its coordinates and Thai postal address."""

    latitude: float
    longitude: float
    address: str


BRANCH_SITES: dict[str, Site] = {
    "BKK01": Site(13.7462, 100.5347, "991 ถนนพระรามที่ 1 แขวงปทุมวัน เขตปทุมวัน กรุงเทพฯ 10330"),
    "BKK02": Site(13.7466, 100.5393, "999/9 ถนนพระรามที่ 1 แขวงปทุมวัน เขตปทุมวัน กรุงเทพฯ 10330"),
    "BKK03": Site(13.7314, 100.5697, "693 ถนนสุขุมวิท แขวงคลองตันเหนือ เขตวัฒนา กรุงเทพฯ 10110"),
    "BKK04": Site(13.8163, 100.5606, "1693 ถนนพหลโยธิน แขวงจตุจักร เขตจตุจักร กรุงเทพฯ 10900"),
    "BKK05": Site(13.7267, 100.5104, "299 ถนนเจริญนคร แขวงคลองต้นไทร เขตคลองสาน กรุงเทพฯ 10600"),
    "NBI01": Site(13.8765, 100.4116, "199 ถนนกาญจนาภิเษก ตำบลเสาธงหิน อำเภอบางใหญ่ นนทบุรี 11140"),
    "CNX01": Site(18.8023, 98.9673, "55 ถนนห้วยแก้ว ตำบลช้างเผือก อำเภอเมืองเชียงใหม่ เชียงใหม่ 50300"),
    "KKC01": Site(16.4322, 102.8236, "99/1 ถนนศรีจันทร์ ตำบลในเมือง อำเภอเมืองขอนแก่น ขอนแก่น 40000"),
    "HKT01": Site(7.8917, 98.2989, "181 ถนนราษฎร์อุทิศ 200 ปี ตำบลป่าตอง อำเภอกะทู้ ภูเก็ต 83150"),
    "CBI01": Site(13.3400, 100.9700, "55/88 หมู่ 1 ถนนสุขุมวิท ตำบลเสม็ด อำเภอเมืองชลบุรี ชลบุรี 20000"),
    "HDY01": Site(7.0000, 100.4700, "1518 ถนนกาญจนวนิช ตำบลหาดใหญ่ อำเภอหาดใหญ่ สงขลา 90110"),
    "NMA01": Site(
        14.9800,
        102.0900,
        "99 ถนนมิตรภาพ-หนองคาย ตำบลในเมือง อำเภอเมืองนครราชสีมา นครราชสีมา 30000",
    ),
}

OTHER_LOCATIONS: tuple[LocationIn, ...] = (
    LocationIn(
        id=WAREHOUSE_ID,
        name="คลังสินค้าสัมพันธ์ บางนา",
        kind="warehouse",
        address="88 ถนนบางนา-ตราด กม. 4 แขวงบางนาใต้ เขตบางนา กรุงเทพฯ 10260",
        latitude=13.6670,
        longitude=100.6470,
        opening_hours=dict.fromkeys(DAYS[:6], ("08:00", "18:00")),
        fulfilment=["delivery"],
    ),
    LocationIn(
        id="PK-ASOK",
        name="จุดรับสินค้า BTS อโศก",
        kind="pickup_point",
        address="สถานี BTS อโศก ถนนสุขุมวิท แขวงคลองเตยเหนือ เขตวัฒนา กรุงเทพฯ 10110",
        latitude=13.7370,
        longitude=100.5603,
        opening_hours=dict.fromkeys(DAYS, ("07:00", "22:00")),
        fulfilment=["click_collect"],
    ),
    LocationIn(
        id="PK-MOCHIT",
        name="จุดรับสินค้า BTS หมอชิต",
        kind="pickup_point",
        address="สถานี BTS หมอชิต ถนนพหลโยธิน แขวงจตุจักร เขตจตุจักร กรุงเทพฯ 10900",
        latitude=13.8026,
        longitude=100.5538,
        opening_hours=dict.fromkeys(DAYS, ("07:00", "22:00")),
        fulfilment=["click_collect"],
    ),
)


@dataclass(frozen=True)
class Shade:
    """One shade of a lip product: its English and Thai names and a SKU suffix."""

    en: str
    th: str
    code: str


@dataclass(frozen=True)
class ShadedProduct:
    """A lip product sold in shades: its names without the shade, then its shades."""

    name_th: str
    name_en: str
    # The first shade is the catalogue's own SKU, the one the demo's customers buy.
    shades: tuple[Shade, ...]


SHADED: dict[str, ShadedProduct] = {
    "P0027": ShadedProduct(
        "ลิปแมทเนื้อกำมะหยี่",
        "Velvet Matte Lip",
        (
            Shade("Brick", "สีอิฐ", ""),
            Shade("Rosewood", "สีโรสวูด", "RSW"),
            Shade("Red", "สีแดง", "RED"),
        ),
    ),
    "P0028": ShadedProduct(
        "ลิปทินท์ฉ่ำวาว",
        "Glow Lip Tint",
        (
            Shade("Peach", "สีพีช", ""),
            Shade("Coral", "สีคอรัล", "CRL"),
            Shade("Berry", "สีเบอร์รี่", "BRY"),
        ),
    ),
}


@dataclass(frozen=True)
class StockPlan:
    """The opening stock of one seed: changes for one bulk update, then transfers."""

    changes: list[StockChange]
    transfers: list[TransferIn]
    sold_out: tuple[str, ...]


@dataclass(frozen=True)
class CommerceSetup:
    """What the set-up did; all zero and ``skipped`` when the shop was there already."""

    locations: int
    products: int
    skus: int
    units: int
    transfers: int
    sold_out: tuple[str, ...]
    skipped: bool


def install_commerce(db: Database, env: CommerceEnv, *, seed: int) -> CommerceSetup:
    """Create the demo shop's locations, products and opening stock, once per workspace."""
    locations = demo_locations()
    products = demo_products()
    with db.transaction() as session:
        have_locations = {loc.id for loc in commerce.list_locations(session, kind=None)}
        have_products = {
            p.id
            for p in commerce.list_products(
                session, category=None, query=None, limit=LISTING_LIMIT, offset=0
            )
        }
        new_locations = [loc for loc in locations if loc.id not in have_locations]
        new_products = [p for p in products if p.id not in have_products]
        if not new_locations and not new_products:
            return CommerceSetup(0, 0, 0, 0, 0, (), skipped=True)
        if new_locations:
            commerce.import_locations(session, new_locations, env)
        if new_products:
            commerce.import_products(session, new_products, env)
        plan = plan_stock([v.sku for p in products for v in p.variants], seed=seed)
        stocked = commerce.bulk_update(
            session, BulkStockIn(changes=plan.changes), key=f"demo-stock-{seed}", env=env
        )
        sent = 0
        if not stocked.replayed:
            for transfer in plan.transfers:
                commerce.send_transfer(session, transfer, env)
                sent += 1
    return CommerceSetup(
        locations=len(new_locations),
        products=len(new_products),
        skus=sum(len(p.variants) for p in new_products),
        units=0 if stocked.replayed else sum(c.quantity for c in plan.changes),
        transfers=sent,
        sold_out=plan.sold_out,
        skipped=False,
    )


def demo_locations() -> list[LocationIn]:
    """Return the twelve branches, the warehouse and the two pickup points."""
    branches = [
        LocationIn(
            id=branch.store_id,
            name=branch.name,
            kind="branch",
            address=BRANCH_SITES[branch.store_id].address,
            latitude=BRANCH_SITES[branch.store_id].latitude,
            longitude=BRANCH_SITES[branch.store_id].longitude,
            opening_hours=dict.fromkeys(DAYS, ("10:00", "22:00")),
            fulfilment=list(ALL_FULFILMENT),
        )
        for branch in BRANCHES
    ]
    return [*branches, *OTHER_LOCATIONS]


def demo_products() -> list[ProductIn]:
    """Return the catalogue as commerce products, each with one or two substitutes."""
    return [
        ProductIn(
            id=product.product_id,
            name=shaded.name_th if shaded else product.name_th,
            name_en=shaded.name_en if shaded else product.name_en,
            category=product.category,
            substitutes=substitutes_of(product),
            variants=_variants(product),
        )
        for product in PRODUCTS
        for shaded in [SHADED.get(product.product_id)]
    ]


def substitutes_of(product: Product) -> list[str]:
    """Return the one or two products of the same category priced nearest to this one."""
    others = sorted(
        (
            (abs(other.price - product.price), other.product_id)
            for other in PRODUCTS
            if other.category == product.category and other.product_id != product.product_id
        ),
    )
    # A second substitute only when its price is within a third of this one's.
    return [
        product_id
        for rank, (gap, product_id) in enumerate(others[:2])
        if rank == 0 or gap * 3 <= product.price
    ]


def ean13(body: str) -> str:
    """Return twelve digits followed by their EAN-13 check digit."""
    if len(body) != 12 or not body.isdigit():
        raise ValueError(f"an EAN-13 body is twelve digits, not '{body}'")
    weighted = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str((10 - weighted % 10) % 10)


def plan_stock(skus: Sequence[str], *, seed: int) -> StockPlan:
    """Return the opening stock of this seed: the same shelves for the same seed."""
    rng = random.Random(seed)
    shelves = [WAREHOUSE_ID, *(branch.store_id for branch in BRANCHES)]
    # Sold out everywhere, so the shop offers substitutes; from different categories, so
    # one is never the other's only substitute.
    by_category: dict[str, list[str]] = {}
    for product in PRODUCTS:
        by_category.setdefault(product.category, []).append(product.sku)
    categories = rng.sample(sorted(by_category), SOLD_OUT_SKUS)
    sold_out = tuple(sorted(rng.choice(by_category[category]) for category in categories))
    changes: list[StockChange] = []
    empty: dict[str, list[str]] = {}
    for location in shelves:
        for sku in skus:
            if location == WAREHOUSE_ID:
                units = rng.randint(200, 500)
            else:
                units = 0 if rng.random() < 0.1 else rng.randint(1, 40)
            if sku in sold_out:
                units = 0
            if units == 0:
                # A stock take of zero: the shelf is listed, and shows as empty.
                changes.append(
                    StockChange(
                        location_id=location, sku=sku, kind="count", quantity=0, note="opening"
                    )
                )
                if location != WAREHOUSE_ID and sku not in sold_out:
                    empty.setdefault(location, []).append(sku)
            else:
                changes.append(
                    StockChange(
                        location_id=location,
                        sku=sku,
                        kind="receipt",
                        quantity=units,
                        note="opening",
                    )
                )
    transfers = []
    restocked = rng.sample(sorted(empty), min(TRANSFERS, len(empty)))
    for number, branch in enumerate(restocked, start=1):
        wanted = rng.sample(empty[branch], min(len(empty[branch]), rng.randint(2, 3)))
        transfers.append(
            TransferIn(
                from_location_id=WAREHOUSE_ID,
                to_location_id=branch,
                lines=[Line(sku=sku, quantity=rng.randint(6, 24)) for sku in sorted(wanted)],
                reference=f"demo-restock-{seed}-{number}",
            )
        )
    return StockPlan(changes=changes, transfers=transfers, sold_out=sold_out)


def _variants(product: Product) -> list[VariantIn]:
    number = int(product.product_id.removeprefix("P"))
    price = Decimal(product.price)
    shaded = SHADED.get(product.product_id)
    if shaded is None:
        return [VariantIn(sku=product.sku, barcode=_barcode(number, 0), price=price)]
    return [
        VariantIn(
            sku=f"{product.sku}-{shade.code}" if shade.code else product.sku,
            barcode=_barcode(number, index),
            price=price,
            attributes={"shade": shade.en, "shade_th": shade.th},
        )
        for index, shade in enumerate(shaded.shades)
    ]


def _barcode(number: int, variant: int) -> str:
    return ean13(f"{BARCODE_PREFIX}{number:07d}{variant:02d}")
