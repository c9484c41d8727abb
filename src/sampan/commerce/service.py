"""Commerce's facade: catalogue, stock, carts, orders; the only module others import."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sampan.commerce import carts, catalog, orders, stock
from sampan.commerce.carts import get_cart, open_cart, set_item
from sampan.commerce.catalog import (
    get_product,
    list_locations,
    list_products,
    parse_locations_csv,
    parse_products_csv,
)
from sampan.commerce.models import (
    Cart,
    CartItem,
    Order,
    OrderEvent,
    Return,
    StockAlert,
    StockRequest,
)
from sampan.commerce.orders import (
    WrongCode,
    allocate_backorders,
    cancel,
    carrier_update,
    checkout,
    collect,
    count_wrong_code,
    get_order,
    pick_list,
    ready_for_pickup,
    record_payment,
    return_items,
    ship,
    subscribe,
    update_shipment,
)
from sampan.commerce.schemas import (
    Availability,
    BulkStockIn,
    BulkStockOut,
    CartOut,
    CommerceEnv,
    CounterView,
    CustomerRef,
    ImportOut,
    LocationIn,
    MovementOut,
    OrderOut,
    ProductIn,
    StockLevel,
    Substitute,
    TransferIn,
    TransferOut,
)
from sampan.commerce.stock import OutOfStock
from sampan.core.clock import Clock, system_clock
from sampan.core.errors import NotFound, Unprocessable
from sampan.core.personal_data import DataSubject, Rows
from sampan.db.rows import affected_rows
from sampan.db.upsert import insert_ignoring_duplicates
from sampan.identity import service as identity
from sampan.profiles import service as profiles
from sampan.profiles.schemas import PipelineBatch

__all__ = [
    "CommerceEnv",
    "OutOfStock",
    "WrongCode",
    "allocate_backorders",
    "availability",
    "bulk_update",
    "cancel",
    "carrier_update",
    "checkout",
    "collect",
    "count_wrong_code",
    "counter_view",
    "erase_personal_data",
    "expire_holds",
    "export_personal_data",
    "get_cart",
    "get_order",
    "get_product",
    "import_locations",
    "import_products",
    "active_cart_of",
    "list_locations",
    "list_orders",
    "list_products",
    "list_transfers",
    "movements",
    "open_cart",
    "parse_locations_csv",
    "parse_products_csv",
    "pick_list",
    "react_to_batch",
    "ready_for_pickup",
    "receive_transfer",
    "record_payment",
    "return_items",
    "send_transfer",
    "set_item",
    "ship",
    "stock_levels",
    "subscribe",
    "update_shipment",
]

QR_PREFIXES = ("sampan:member:", "member:")


def import_products(session: Session, products: Sequence[ProductIn], env: CommerceEnv) -> ImportOut:
    """Create or update products with their variants, all or nothing."""
    return catalog.save_products(session, products, env.clock())


def import_locations(
    session: Session, locations: Sequence[LocationIn], env: CommerceEnv
) -> ImportOut:
    """Create or update locations, all or nothing."""
    return catalog.save_locations(session, locations, env.clock())


def availability(session: Session, code: str, *, location_id: str | None = None) -> Availability:
    """Return where a SKU (or barcode) is available, and in-stock substitutes when it is out.

    With ``location_id`` (the branch a customer stands in), "out" means out at that branch,
    and the substitutes offered are those on its shelves.
    """
    sku = catalog.find_sku(session, code)
    if sku is None:
        raise NotFound(f"no SKU or barcode '{code}'")
    if location_id is not None:
        catalog.require_known(session, location_ids=[location_id])
    _, product = catalog.variants(session, [sku])[sku]
    levels = stock.levels_of(session, [sku])
    total = sum(level.available for level in levels)
    here = None
    if location_id is not None:
        here = sum(level.available for level in levels if level.location_id == location_id)
    substitutes = []
    if (total if here is None else here) == 0:
        substitutes = [
            Substitute.model_validate(item)
            for item in orders.substitutes_of(session, sku, location_id)
        ]
    return Availability(
        sku=sku,
        product_id=product.id,
        name=product.name,
        available=total,
        available_here=here,
        locations=levels,
        substitutes=substitutes,
    )


def stock_levels(
    session: Session, *, location_id: str | None, sku: str | None, limit: int, offset: int
) -> list[StockLevel]:
    """Return stock rows, optionally of one location or SKU."""
    return stock.level_rows(session, location_id=location_id, sku=sku, limit=limit, offset=offset)


def bulk_update(session: Session, data: BulkStockIn, *, key: str, env: CommerceEnv) -> BulkStockOut:
    """Apply a till's or ERP's changes all together, once per idempotency key.

    The same key with the same body answers what the first request answered; with another
    body it is refused, since the client has mixed up two requests.
    """
    fingerprint = hashlib.sha256(
        orjson.dumps(data.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    now = env.clock()
    # Taken first: a second request with this key waits here until the first commits.
    insert_ignoring_duplicates(
        session,
        StockRequest,
        [{"key": key, "fingerprint": fingerprint, "response": {}, "created_at": now}],
        ["key"],
    )
    seen = session.get(StockRequest, key)
    assert seen is not None
    if seen.response:
        if seen.fingerprint != fingerprint:
            raise Unprocessable(
                f"idempotency key '{key}' was used for a different request on "
                f"{seen.created_at.isoformat()}; use a new key for new changes"
            )
        return BulkStockOut.model_validate({**seen.response, "replayed": True})
    changes = data.changes
    catalog.require_known(
        session,
        skus=[c.sku for c in changes],
        location_ids=[c.location_id for c in changes],
    )
    shelves = catalog.locations(session, {c.location_id for c in changes})
    no_stock = sorted(loc for loc, row in shelves.items() if row.kind == "pickup_point")
    if no_stock:
        raise Unprocessable(f"pickup points hold no stock: {', '.join(no_stock)}")
    back = stock.apply_changes(session, changes, now)
    keys = {(c.location_id, c.sku) for c in changes}
    result = BulkStockOut(applied=len(changes), levels=stock.levels(session, keys))
    session.execute(
        update(StockRequest)
        .where(StockRequest.key == key)
        .values(response=result.model_dump(mode="json", exclude={"replayed"}))
    )
    orders.notify_back_in_stock(session, back, env)
    return result


def send_transfer(session: Session, data: TransferIn, env: CommerceEnv) -> TransferOut:
    """Send units between locations; they are in transit until received."""
    catalog.require_known(
        session,
        skus=[line.sku for line in data.lines],
        location_ids=[data.from_location_id, data.to_location_id],
    )
    ends = catalog.locations(session, [data.from_location_id, data.to_location_id])
    no_stock = sorted(loc for loc, row in ends.items() if row.kind == "pickup_point")
    if no_stock:
        raise Unprocessable(f"pickup points hold no stock: {', '.join(no_stock)}")
    return stock.send_transfer(session, data, env.clock())


def list_transfers(
    session: Session, *, status: str | None, location_id: str | None, limit: int
) -> list[TransferOut]:
    """Return the newest transfers, optionally by status or a location at either end."""
    return stock.list_transfers(session, status=status, location_id=location_id, limit=limit)


def receive_transfer(session: Session, transfer_id: str, env: CommerceEnv) -> TransferOut:
    """Take a transfer in at its destination."""
    received, back = stock.receive_transfer(session, transfer_id=transfer_id, now=env.clock())
    orders.notify_back_in_stock(session, back, env)
    return received


def movements(
    session: Session, *, location_id: str | None, sku: str | None, limit: int
) -> list[MovementOut]:
    """Return the newest lines of the stock ledger."""
    return [
        MovementOut.model_validate(row, from_attributes=True)
        for row in stock.ledger(session, location_id=location_id, sku=sku, limit=limit)
    ]


def counter_view(session: Session, *, lookup: Mapping[str, str], env: CommerceEnv) -> CounterView:
    """Find the customer at the counter by phone, member QR, LINE id or e-mail."""
    fields = dict(lookup)
    qr = fields.pop("qr", None)
    if qr is not None:
        code = qr.strip()
        for prefix in QR_PREFIXES:
            if code.lower().startswith(prefix):
                code = code[len(prefix) :]
        fields["user_id"] = code
    if len(fields) != 1:
        raise Unprocessable("look a customer up by one of phone, qr, line_user_id or email")
    profile_id, _ = carts.resolve_customer(session, CustomerRef.model_validate(fields), env)
    if profile_id is None:
        raise NotFound("no customer matches")
    cart = carts.active_cart(session, profile_id=profile_id, visitor=None)
    found = identity.identifiers_of(session, profile_ids=[profile_id])[profile_id]
    name = profiles.get_profile(session, profile_id=profile_id, currency=env.currency).display_name
    return CounterView(
        profile_id=profile_id,
        display_name=name,
        identifiers=[{"type": i.type, "value": i.value} for i in found],
        cart=None if cart is None else carts.cart_out(session, cart, env),
        orders=orders.list_orders(session, profile_ids=[profile_id], limit=5, env=env),
    )


def list_orders(
    session: Session, *, profile_id: str, limit: int, env: CommerceEnv
) -> list[OrderOut]:
    """Return the person's newest orders, whichever of their profiles placed them."""
    person = profiles.find_person(session, profile_id=profile_id)
    return orders.list_orders(session, profile_ids=person.profile_ids, limit=limit, env=env)


def active_cart_of(session: Session, *, profile_id: str, env: CommerceEnv) -> CartOut | None:
    """Return the person's active cart, if they have one."""
    person = profiles.find_person(session, profile_id=profile_id)
    cart = carts.active_cart(session, profile_id=person.profile_id, visitor=None)
    return None if cart is None else carts.cart_out(session, cart, env)


def expire_holds(session: Session, env: CommerceEnv) -> int:
    """Release every hold past its expiry; return the units put back on sale."""
    return stock.expire(session, now=env.clock())


def react_to_batch(session: Session, batch: PipelineBatch, env: CommerceEnv) -> None:
    """Follow people through the pipeline.

    Visitors' carts and orders find their profiles, and a merge gives the merged-away
    profile's cart, orders and stock alerts to the survivor.
    """
    now = env.clock()
    survivors: dict[str, str] = {}
    for survivor, merged in batch.merges:
        survivors[merged] = survivor
        carts.merge_profiles(session, survivor=survivor, merged=merged, now=now)
        for model in (Order, StockAlert):
            session.execute(
                update(model).where(model.profile_id == merged).values(profile_id=survivor)
            )
    owners: dict[str, str] = {}
    for event in batch.events:
        profile_id = batch.attribution.get(event.seq)
        if profile_id is None:
            continue
        while profile_id in survivors:
            profile_id = survivors[profile_id]
        if event.anonymous_id:
            owners[f"anonymous_id:{event.anonymous_id}"] = profile_id
        if event.user_id:
            owners[f"user_id:{event.user_id}"] = profile_id
    if not owners:
        return
    if session.scalar(
        select(Cart.id).where(Cart.profile_id.is_(None), Cart.status == "active").limit(1)
    ):
        carts.attach_visitors(session, owners=owners, now=now)
    unowned = session.execute(
        select(Order.id, Order.visitor).where(
            Order.profile_id.is_(None), Order.visitor.in_(sorted(owners))
        )
    ).all()
    for order_id, visitor in unowned:
        session.execute(
            update(Order).where(Order.id == order_id).values(profile_id=owners[str(visitor)])
        )


def export_personal_data(session: Session, subject: DataSubject) -> Mapping[str, Rows]:
    """Return the person's carts, orders and stock alerts."""
    ids = list(subject.profile_ids)
    cart_rows = list(session.scalars(select(Cart).where(Cart.profile_id.in_(ids))))
    return {
        "commerce_carts": [_row(c) for c in cart_rows],
        "commerce_cart_items": [
            _row(i)
            for i in session.scalars(
                select(CartItem).where(CartItem.cart_id.in_([c.id for c in cart_rows]))
            )
        ],
        "commerce_orders": [
            _row(o) for o in session.scalars(select(Order).where(Order.profile_id.in_(ids)))
        ],
        "commerce_stock_alerts": [
            _row(a)
            for a in session.scalars(select(StockAlert).where(StockAlert.profile_id.in_(ids)))
        ],
    }


def erase_personal_data(
    session: Session, subject: DataSubject, *, clock: Clock = system_clock
) -> Mapping[str, int]:
    """Delete carts and alerts; keep orders as sales records with the person cut out."""
    ids = list(subject.profile_ids)
    cart_ids = list(session.scalars(select(Cart.id).where(Cart.profile_id.in_(ids))))
    for cart_id in cart_ids:
        stock.release(session, holder=carts.holder(cart_id), now=clock())
    items = affected_rows(session, delete(CartItem).where(CartItem.cart_id.in_(cart_ids)))
    removed = affected_rows(session, delete(Cart).where(Cart.id.in_(cart_ids)))
    alerts = affected_rows(session, delete(StockAlert).where(StockAlert.profile_id.in_(ids)))
    order_ids = list(session.scalars(select(Order.id).where(Order.profile_id.in_(ids))))
    anonymised = affected_rows(
        session,
        update(Order)
        .where(Order.id.in_(order_ids))
        .values(profile_id=None, visitor=None, address=None, payment={}),
    )
    # Free text and payment references in the timeline and returns could name the person.
    session.execute(update(OrderEvent).where(OrderEvent.order_id.in_(order_ids)).values(detail={}))
    session.execute(update(Return).where(Return.order_id.in_(order_ids)).values(reason=""))
    return {
        "carts": removed,
        "cart_items": items,
        "stock_alerts": alerts,
        "orders_anonymised": anonymised,
    }


def _row(row: Any) -> dict[str, Any]:
    """Return a row as JSON-ready values, dates as ISO 8601."""
    values = {column.name: getattr(row, column.key) for column in row.__table__.columns}
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in values.items()
    }
