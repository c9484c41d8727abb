"""The catalogue (products, variants, substitutes) and the locations, with CSV import."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sampan.commerce.models import Location, Product, Variant
from sampan.commerce.schemas import (
    DAYS,
    ImportOut,
    LocationIn,
    LocationOut,
    ProductIn,
    ProductOut,
    VariantOut,
)
from sampan.core.errors import NotFound, Unprocessable

PRODUCT_COLUMNS = ("product_id", "name", "sku", "price")
LOCATION_COLUMNS = ("id", "name", "kind")
_HOURS = re.compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d\d:\d\d)-(\d\d:\d\d)$")


def satang(amount: Decimal) -> int:
    """Return a baht amount in satang."""
    return int((amount * 100).to_integral_value())


def baht(units: int) -> Decimal:
    """Return satang as a baht amount with two decimals."""
    return (Decimal(units) / 100).quantize(Decimal("0.01"))


def save_products(session: Session, products: Sequence[ProductIn], now: datetime) -> ImportOut:
    """Create or update products and their variants (others are kept); all or nothing."""
    _check_products(session, products)
    ids = [p.id for p in products]
    existing = set(session.scalars(select(Product.id).where(Product.id.in_(ids))))
    for data in products:
        product = session.get(Product, data.id) or Product(id=data.id)
        product.name = data.name
        product.name_en = data.name_en
        product.category = data.category
        product.attributes = dict(data.attributes)
        product.substitutes = list(data.substitutes)
        product.updated_at = now
        session.add(product)
        for item in data.variants:
            variant = session.get(Variant, item.sku) or Variant(sku=item.sku)
            variant.product_id = data.id
            variant.barcode = item.barcode
            variant.price_satang = satang(item.price)
            variant.attributes = dict(item.attributes)
            variant.lead_time_days = item.lead_time_days
            variant.active = item.active
            variant.updated_at = now
            session.add(variant)
    session.flush()
    return ImportOut(created=len(set(ids) - existing), updated=len(existing))


def save_locations(session: Session, locations: Sequence[LocationIn], now: datetime) -> ImportOut:
    """Create or update locations."""
    ids = [loc.id for loc in locations]
    if len(set(ids)) != len(ids):
        raise Unprocessable("locations repeat an id")
    existing = set(session.scalars(select(Location.id).where(Location.id.in_(ids))))
    for data in locations:
        row = session.get(Location, data.id) or Location(id=data.id)
        row.name = data.name
        row.kind = data.kind
        row.address = data.address
        row.latitude = data.latitude
        row.longitude = data.longitude
        row.opening_hours = {day: list(hours) for day, hours in data.opening_hours.items()}
        row.fulfilment = list(data.fulfilment)
        row.active = data.active
        row.updated_at = now
        session.add(row)
    session.flush()
    return ImportOut(created=len(set(ids) - existing), updated=len(existing))


def list_products(
    session: Session, *, category: str | None, query: str | None, limit: int, offset: int
) -> list[ProductOut]:
    """Return products by id, filtered by category and a name or SKU search."""
    statement = select(Product).order_by(Product.id).limit(limit).offset(offset)
    if category is not None:
        statement = statement.where(Product.category == category)
    if query:
        like = f"%{query.lower()}%"
        skus = select(Variant.product_id).where(
            Variant.sku.ilike(like) | (Variant.barcode == query)
        )
        statement = statement.where(
            Product.name.ilike(like) | Product.name_en.ilike(like) | Product.id.in_(skus)
        )
    return products_out(session, list(session.scalars(statement)))


def get_product(session: Session, product_id: str) -> ProductOut:
    """Return one product, or raise NotFound."""
    row = session.get(Product, product_id)
    if row is None:
        raise NotFound(f"no product '{product_id}'")
    return products_out(session, [row])[0]


def products_out(session: Session, rows: Sequence[Product]) -> list[ProductOut]:
    """Return products with their variants."""
    variants: dict[str, list[VariantOut]] = {row.id: [] for row in rows}
    for variant in session.scalars(
        select(Variant).where(Variant.product_id.in_(list(variants))).order_by(Variant.sku)
    ):
        variants[variant.product_id].append(
            VariantOut(
                sku=variant.sku,
                barcode=variant.barcode,
                price=baht(variant.price_satang),
                attributes=variant.attributes,
                lead_time_days=variant.lead_time_days,
                active=variant.active,
            )
        )
    return [
        ProductOut(
            id=row.id,
            name=row.name,
            name_en=row.name_en,
            category=row.category,
            attributes=row.attributes,
            substitutes=row.substitutes,
            variants=variants[row.id],
        )
        for row in rows
    ]


def variants(session: Session, skus: Iterable[str]) -> dict[str, tuple[Variant, Product]]:
    """Return each known SKU's variant and product."""
    wanted = sorted(set(skus))
    rows = session.execute(
        select(Variant, Product)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.sku.in_(wanted))
    )
    return {variant.sku: (variant, product) for variant, product in rows}


def find_sku(session: Session, code: str) -> str | None:
    """Return the SKU a scanned code names: the SKU itself or a barcode."""
    if session.get(Variant, code) is not None:
        return code
    return session.scalar(select(Variant.sku).where(Variant.barcode == code))


def list_locations(session: Session, *, kind: str | None) -> list[LocationOut]:
    """Return locations by id."""
    statement = select(Location).order_by(Location.id)
    if kind is not None:
        statement = statement.where(Location.kind == kind)
    return [location_out(row) for row in session.scalars(statement)]


def locations(session: Session, ids: Iterable[str] | None = None) -> dict[str, Location]:
    """Return locations by id: these, or all."""
    statement = select(Location)
    if ids is not None:
        statement = statement.where(Location.id.in_(sorted(set(ids))))
    return {row.id: row for row in session.scalars(statement)}


def location_out(row: Location) -> LocationOut:
    """Return a location as the API shows it."""
    return LocationOut(
        id=row.id,
        name=row.name,
        kind=row.kind,
        address=row.address,
        latitude=row.latitude,
        longitude=row.longitude,
        opening_hours=row.opening_hours,
        fulfilment=row.fulfilment,
        active=row.active,
    )


def require_known(
    session: Session, *, skus: Iterable[str] = (), location_ids: Iterable[str] = ()
) -> None:
    """Raise Unprocessable naming every SKU and location that does not exist."""
    wanted_skus = sorted(set(skus))
    wanted_locations = sorted(set(location_ids))
    known_skus = set(session.scalars(select(Variant.sku).where(Variant.sku.in_(wanted_skus))))
    known_locations = set(
        session.scalars(select(Location.id).where(Location.id.in_(wanted_locations)))
    )
    unknown_skus = [sku for sku in wanted_skus if sku not in known_skus]
    unknown_locations = [loc for loc in wanted_locations if loc not in known_locations]
    if unknown_skus or unknown_locations:
        parts = []
        if unknown_skus:
            parts.append(f"unknown SKUs {', '.join(unknown_skus)}")
        if unknown_locations:
            parts.append(f"unknown locations {', '.join(unknown_locations)}")
        raise Unprocessable(
            "; ".join(parts),
            details={"unknown_skus": unknown_skus, "unknown_locations": unknown_locations},
        )


# -- CSV ---------------------------------------------------------------------------------------


def parse_products_csv(text: str) -> list[ProductIn]:
    """Read products from CSV, one row per variant; raise Unprocessable listing every problem.

    Columns: product_id, name, sku, price (baht) and optionally name_en, category, barcode,
    lead_time_days, active (yes/no), substitutes (product ids separated by ``;``) and
    ``attr:<name>`` columns
    for the variant's attributes (shade, size). Product fields are read from a product's
    first row.
    """
    rows, problems = _rows(text, PRODUCT_COLUMNS)
    grouped: dict[str, dict[str, Any]] = {}
    for number, row in rows:
        product_id = row["product_id"]
        product = grouped.setdefault(
            product_id,
            {
                "id": product_id,
                "name": row["name"],
                "name_en": row.get("name_en") or None,
                "category": row.get("category") or None,
                "substitutes": _split(row.get("substitutes")),
                "variants": [],
                "_rows": [],
            },
        )
        product["_rows"].append(number)
        try:
            price = Decimal(row["price"].replace(",", ""))
        except InvalidOperation:
            problems.append({"row": number, "field": "price", "problem": "not a number"})
            continue
        lead = row.get("lead_time_days") or None
        if lead is not None and not lead.isdigit():
            problems.append({"row": number, "field": "lead_time_days", "problem": "not a number"})
            continue
        active = _flag(row.get("active"))
        if active is None:
            problems.append({"row": number, "field": "active", "problem": "not yes or no"})
            continue
        product["variants"].append(
            {
                "sku": row["sku"],
                "barcode": row.get("barcode") or None,
                "price": price,
                "lead_time_days": None if lead is None else int(lead),
                "active": active,
                "attributes": {
                    name[5:]: value
                    for name, value in row.items()
                    if name.startswith("attr:") and value
                },
            }
        )
    products = []
    for data in grouped.values():
        numbers = data.pop("_rows")
        try:
            products.append(ProductIn.model_validate(data))
        except ValidationError as exc:
            problems += _problems(exc, numbers[0])
    if problems:
        raise Unprocessable(
            f"the CSV has {len(problems)} problem(s); nothing was imported",
            details={"problems": problems},
        )
    return products


def parse_locations_csv(text: str) -> list[LocationIn]:
    """Read locations from CSV; raise Unprocessable listing every problem.

    Columns: id, name, kind and optionally address, latitude, longitude, active (yes/no),
    fulfilment (``delivery;click_collect;in_store``) and hours
    (``mon-fri 10:00-21:00; sat 10:00-22:00``).
    """
    rows, problems = _rows(text, LOCATION_COLUMNS)
    result = []
    for number, row in rows:
        try:
            hours = _hours(row.get("hours") or "")
        except ValueError as exc:
            problems.append({"row": number, "field": "hours", "problem": str(exc)})
            continue
        active = _flag(row.get("active"))
        if active is None:
            problems.append({"row": number, "field": "active", "problem": "not yes or no"})
            continue
        data = {
            "id": row["id"],
            "name": row["name"],
            "kind": row["kind"],
            "address": row.get("address") or "",
            "latitude": row.get("latitude") or None,
            "longitude": row.get("longitude") or None,
            "fulfilment": _split(row.get("fulfilment")),
            "opening_hours": hours,
            "active": active,
        }
        try:
            result.append(LocationIn.model_validate(data))
        except ValidationError as exc:
            problems += _problems(exc, number)
    if problems:
        raise Unprocessable(
            f"the CSV has {len(problems)} problem(s); nothing was imported",
            details={"problems": problems},
        )
    return result


def _check_products(session: Session, products: Sequence[ProductIn]) -> None:
    ids = {p.id for p in products}
    if len(ids) != len(products):
        raise Unprocessable("products repeat an id")
    skus = [v.sku for p in products for v in p.variants]
    if len(set(skus)) != len(skus):
        raise Unprocessable("two products name the same SKU")
    owners = {
        row.sku: row.product_id
        for row in session.execute(
            select(Variant.sku, Variant.product_id).where(Variant.sku.in_(skus))
        )
    }
    moved = sorted(v.sku for p in products for v in p.variants if owners.get(v.sku, p.id) != p.id)
    if moved:
        raise Unprocessable(f"SKUs belong to another product already: {', '.join(moved)}")
    barcodes = [v.barcode for p in products for v in p.variants if v.barcode]
    if len(set(barcodes)) != len(barcodes):
        raise Unprocessable("two variants share a barcode")
    taken = {
        row.barcode: row.sku
        for row in session.execute(
            select(Variant.barcode, Variant.sku).where(Variant.barcode.in_(barcodes))
        )
    }
    clashes = sorted(
        str(v.barcode)
        for p in products
        for v in p.variants
        if v.barcode and taken.get(v.barcode, v.sku) != v.sku
    )
    if clashes:
        raise Unprocessable(f"barcodes used by other SKUs: {', '.join(clashes)}")
    substitutes = {s for p in products for s in p.substitutes}
    known = set(session.scalars(select(Product.id).where(Product.id.in_(substitutes)))) | ids
    unknown = sorted(substitutes - known)
    if unknown:
        raise Unprocessable(
            f"substitutes name unknown products {', '.join(unknown)}",
            details={"unknown_products": unknown},
        )


def _rows(text: str, required: Sequence[str]) -> tuple[list[tuple[int, dict[str, str]]], list[Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise Unprocessable(
            f"the CSV lacks columns {', '.join(missing)}; it has {', '.join(header) or 'none'}",
            details={"missing_columns": missing},
        )
    rows = []
    problems: list[dict[str, Any]] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            problems.append({"row": number, "field": None, "problem": "more cells than columns"})
            continue
        empty = [name for name in required if not row.get(name)]
        if empty:
            for name in empty:
                problems.append({"row": number, "field": name, "problem": "empty"})
            continue
        rows.append((number, row))
    return rows, problems


def _problems(exc: ValidationError, row: int) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "field": ".".join(str(part) for part in error["loc"]) or None,
            "problem": error["msg"],
        }
        for error in exc.errors()
    ]


def _flag(cell: str | None) -> bool | None:
    """Read an ``active`` cell: empty is yes; None when it is neither yes nor no."""
    value = (cell or "yes").strip().lower()
    if value in ("yes", "y", "true", "1", "ใช่"):
        return True
    if value in ("no", "n", "false", "0", "ไม่"):
        return False
    return None


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def _hours(cell: str) -> dict[str, tuple[str, str]]:
    """Read ``mon-fri 10:00-21:00; sun 11:00-20:00`` into per-day opening hours."""
    result: dict[str, tuple[str, str]] = {}
    for part in _split(cell):
        match = _HOURS.match(part.lower())
        if match is None:
            raise ValueError(f"'{part}' is not like 'mon-fri 10:00-21:00'")
        first, last, opens, closes = match.groups()
        for day in (first, last or first):
            if day not in DAYS:
                raise ValueError(f"'{day}' is not a day: use {', '.join(DAYS)}")
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise ValueError(f"'{part}': the days run backwards")
        for day in DAYS[start : end + 1]:
            result[day] = (opens, closes)
    return result
