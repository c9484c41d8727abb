"""Orders from any channel: checkout, routing, pickup, shipments, returns and exchanges."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sampan.commerce import carts, catalog, stock
from sampan.commerce.catalog import baht
from sampan.commerce.events import Emitted, emit
from sampan.commerce.models import (
    Location,
    Order,
    OrderEvent,
    OrderLine,
    Product,
    Return,
    Shipment,
    StockAlert,
)
from sampan.commerce.rules import (
    Allocation,
    Plan,
    Site,
    hash_pickup_code,
    new_pickup_code,
    pickup_code_matches,
    route,
)
from sampan.commerce.schemas import (
    AlertIn,
    AlertOut,
    CarrierAck,
    CarrierUpdate,
    CheckoutIn,
    CommerceEnv,
    Line,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    PaymentUpdate,
    PickList,
    PickListLine,
    PickupIn,
    ReturnIn,
    ReturnOut,
    ShipmentIn,
    ShipmentOut,
    ShipmentUpdate,
)
from sampan.core.errors import Conflict, NotFound, Unprocessable
from sampan.core.ids import new_id
from sampan.db.engine import Database

Key = tuple[str, str]
# Lines that have left (or are leaving) the shelf; only these can come back.
GONE = ("shipped", "delivered", "collected")
OPEN = ("allocated", "backordered")
_ATTEMPTS = 3


def holder(order_id: str) -> str:
    """Return the name an order holds stock under."""
    return f"order:{order_id}"


def checkout(
    session: Session, cart_id: str, data: CheckoutIn, request_key: str | None, env: CommerceEnv
) -> OrderOut:
    """Turn the cart into an order: route it, hold its units, and tell the profile.

    A repeated request with the same key returns the order made the first time. When
    another checkout takes units between routing and holding (PostgreSQL), routing runs
    again on the new stock, up to three times.
    """
    fingerprint = hashlib.sha256(
        orjson.dumps([cart_id, data.model_dump(mode="json")], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    cart = carts.load(session, cart_id, for_update=True)
    # Looked up with the cart locked: a repeat sent while the first runs waits for it here.
    if request_key is not None:
        done = session.scalar(select(Order).where(Order.request_key == request_key))
        if done is not None:
            if done.request_fingerprint != fingerprint:
                raise Unprocessable(
                    f"idempotency key '{request_key}' was used for a different checkout "
                    f"(order '{done.id}'); use a new key for a new checkout"
                )
            return order_out(session, done, env)
    if cart.status != "active":
        raise Conflict(
            f"cart '{cart_id}' is {cart.status}"
            + (f" (order '{cart.order_id}')" if cart.order_id else ""),
            details={"order_id": cart.order_id, "merged_into": cart.merged_into},
        )
    items = carts.items_of(session, cart.id)
    if not items:
        raise Conflict(f"cart '{cart_id}' is empty")
    wanted = {item.sku: item.quantity for item in items}
    found = catalog.variants(session, wanted)
    site = _branch(session, data.location_id, data.method) if data.location_id else None
    now = env.clock()
    order_id = new_id("ord")
    for attempt in range(_ATTEMPTS):
        plan = _plan(session, wanted, data, site, carts.holder(cart.id), env, found)
        try:
            with session.begin_nested():
                stock.hold(
                    session,
                    holder=holder(order_id),
                    wanted=_placed(plan),
                    expires_at=None,
                    now=now,
                    replaces=carts.holder(cart.id),
                )
            break
        except stock.OutOfStock:
            if attempt == _ATTEMPTS - 1:
                raise
    order = Order(
        id=order_id,
        request_key=request_key,
        request_fingerprint=fingerprint if request_key is not None else None,
        profile_id=cart.profile_id,
        visitor=cart.visitor,
        cart_id=cart.id,
        channel=data.channel,
        status="placed",
        payment_status=data.payment.status,
        payment=data.payment.model_dump(exclude_none=True),
        method=data.method,
        pickup_location_id=data.location_id,
        address=None if data.address is None else data.address.model_dump(exclude_none=True),
        routing=plan.as_dict(),
        total_satang=sum(item.unit_price_satang * item.quantity for item in items),
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        # Another checkout, of another cart, committed this key meanwhile.
        raise Unprocessable(
            f"idempotency key '{request_key}' was used for a different checkout"
        ) from exc
    prices = {item.sku: item.unit_price_satang for item in items}
    _add_lines(session, order_id, plan, prices, first=1, now=now)
    cart.status = "ordered"
    cart.order_id = order_id
    cart.updated_at = now
    _timeline(session, order_id, "placed", {"channel": data.channel, "method": data.method}, now)
    session.flush()
    events = [_event(order, "Order Completed", env, products=_products(session, order))]
    if data.method == "in_store":
        _hand_over(session, order, now)
        events.append(_event(order, "Order Picked Up", env, location_id=order.pickup_location_id))
    emit(session, events, now)
    return order_out(session, order, env)


def get_order(session: Session, order_id: str, env: CommerceEnv) -> OrderOut:
    """Return an order, or raise NotFound."""
    return order_out(session, _load(session, order_id), env)


def list_orders(
    session: Session, *, profile_ids: Sequence[str], limit: int, env: CommerceEnv
) -> list[OrderOut]:
    """Return the newest orders of these profiles."""
    rows = session.scalars(
        select(Order)
        .where(Order.profile_id.in_(profile_ids))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return [order_out(session, row, env) for row in rows]


def record_payment(
    session: Session, order_id: str, data: PaymentUpdate, env: CommerceEnv
) -> OrderOut:
    """Record what the payment provider reported."""
    order = _load(session, order_id, for_update=True)
    now = env.clock()
    order.payment_status = data.status
    order.payment = {**order.payment, "status": data.status}
    if data.reference:
        order.payment["reference"] = data.reference
    order.updated_at = now
    _timeline(session, order.id, f"payment_{data.status}", {"reference": data.reference}, now)
    emit(session, [_event(order, "Order Updated", env, payment_status=data.status)], now)
    return order_out(session, order, env)


def cancel(session: Session, order_id: str, reason: str, env: CommerceEnv) -> OrderOut:
    """Cancel what has not left the shelf; its held units go back on sale."""
    order = _load(session, order_id, for_update=True)
    lines = _lines(session, order.id)
    if any(line.status in GONE for line in lines):
        raise Conflict(f"order '{order_id}' has lines shipped or handed over: return them instead")
    if order.status == "cancelled":
        raise Conflict(f"order '{order_id}' was cancelled already")
    now = env.clock()
    stock.release(session, holder=holder(order.id), now=now)
    for line in lines:
        line.status = "cancelled"
    order.status = "cancelled"
    order.updated_at = now
    _timeline(session, order.id, "cancelled", {"reason": reason}, now)
    emit(session, [_event(order, "Order Cancelled", env, reason=reason)], now)
    return order_out(session, order, env)


def allocate_backorders(session: Session, order_id: str, env: CommerceEnv) -> OrderOut:
    """Route back-ordered lines again now that stock may have come in."""
    order = _load(session, order_id, for_update=True)
    waiting = [line for line in _lines(session, order.id) if line.status == "backordered"]
    if not waiting:
        raise Conflict(f"order '{order_id}' has no back-ordered lines")
    now = env.clock()
    wanted: dict[str, int] = defaultdict(int)
    for line in waiting:
        wanted[line.sku] += line.quantity
    data = _checkout_of(order)
    site = _branch(session, order.pickup_location_id, order.method) if data.location_id else None
    found = catalog.variants(session, wanted)
    plan = _plan(session, wanted, data, site, None, env, found)
    held = stock.held_by(session, [holder(order.id)])[holder(order.id)]
    total = dict(held)
    for key, units in _placed(plan).items():
        total[key] = total.get(key, 0) + units
    stock.hold(
        session,
        holder=holder(order.id),
        wanted=total,
        expires_at=None,
        now=now,
        replaces=holder(order.id),
    )
    prices = {line.sku: line.unit_price_satang for line in waiting}
    next_no = max(line.line_no for line in _lines(session, order.id)) + 1
    for line in waiting:
        session.delete(line)
    session.flush()
    _add_lines(session, order.id, plan, prices, first=next_no, now=now)
    order.routing = {**order.routing, "reallocated": plan.as_dict()}
    order.updated_at = now
    _timeline(session, order.id, "reallocated", {"explanation": plan.explanation}, now)
    session.flush()
    return order_out(session, order, env)


def pick_list(session: Session, order_id: str, location_id: str) -> PickList:
    """Return what one location must take off its shelves for the order."""
    order = _load(session, order_id)
    lines = [
        line
        for line in _lines(session, order.id)
        if line.location_id == location_id and line.status == "allocated"
    ]
    found = catalog.variants(session, [line.sku for line in lines])
    return PickList(
        order_id=order.id,
        location_id=location_id,
        lines=[
            PickListLine(
                line_no=line.line_no,
                sku=line.sku,
                barcode=found[line.sku][0].barcode,
                name=found[line.sku][1].name,
                quantity=line.quantity,
            )
            for line in lines
        ],
    )


def ready_for_pickup(session: Session, order_id: str, env: CommerceEnv) -> OrderOut:
    """Mark a click & collect order ready at its branch and issue the pickup code.

    Every line must be at the branch: held there, or delivered there by a shipment.
    The code is returned once and sent to the customer in the Order Ready For Pickup event;
    only its hash is kept. Calling again issues a new code (a customer who lost it).
    """
    order = _load(session, order_id, for_update=True)
    if order.method != "click_collect":
        raise Conflict(f"order '{order_id}' is for {order.method}, not click & collect")
    if order.status in ("collected", "cancelled"):
        raise Conflict(f"order '{order_id}' is {order.status}")
    branch = order.pickup_location_id
    missing = [
        line
        for line in _lines(session, order.id)
        if line.status != "cancelled"
        and not (line.status == "allocated" and line.location_id == branch)
        and not (line.status == "delivered" and _shipped_to(session, line) == branch)
    ]
    if missing:
        described = ", ".join(
            f"line {line.line_no} ({line.sku}) is {line.status}"
            + (f" at {line.location_id}" if line.location_id else "")
            for line in missing
        )
        raise Conflict(f"not everything is at {branch} yet: {described}")
    now = env.clock()
    code = new_pickup_code()
    order.pickup_code_hash = hash_pickup_code(order.id, code)
    order.pickup_failures = 0
    order.status = "ready_for_pickup"
    order.updated_at = now
    _timeline(session, order.id, "ready_for_pickup", {"location_id": branch}, now)
    location = session.get(Location, branch)
    event = _event(
        order,
        "Order Ready For Pickup",
        env,
        pickup_code=code,
        location_id=branch,
        location_name=None if location is None else location.name,
        address=None if location is None else location.address,
    )
    emit(session, [event], now)
    result = order_out(session, order, env)
    result.pickup_code = code
    return result


def collect(session: Session, order_id: str, data: PickupIn, env: CommerceEnv) -> OrderOut:
    """Hand a ready order over when the customer's code matches; lock after repeated misses."""
    order = _load(session, order_id, for_update=True)
    if order.status != "ready_for_pickup" or order.pickup_code_hash is None:
        raise Conflict(f"order '{order_id}' is {order.status}, not ready for pickup")
    limit = env.settings.pickup_code_attempts
    if order.pickup_failures >= limit:
        raise Conflict(
            f"the pickup code was wrong {limit} times; mark the order ready again to send a "
            "new code"
        )
    now = env.clock()
    if not pickup_code_matches(order.id, data.code, order.pickup_code_hash):
        # The caller counts the miss in a transaction of its own (count_wrong_code), since
        # this one is rolled back with the refusal.
        left = limit - order.pickup_failures - 1
        raise WrongCode(f"the pickup code does not match; {left} attempt(s) left")
    _hand_over(session, order, now)
    order.pickup_code_hash = None
    emit(
        session,
        [_event(order, "Order Picked Up", env, location_id=order.pickup_location_id)],
        now,
    )
    return order_out(session, order, env)


class WrongCode(Conflict):
    """A pickup code that does not match; the failed attempt is kept."""


def ship(session: Session, order_id: str, data: ShipmentIn, env: CommerceEnv) -> OrderOut:
    """Parcel lines held at one location: they leave the shelf (a sale) with a carrier."""
    order = _load(session, order_id, for_update=True)
    if order.status == "cancelled":
        raise Conflict(f"order '{order_id}' is cancelled")
    lines = [
        line
        for line in _lines(session, order.id)
        if line.location_id == data.location_id and line.status == "allocated"
    ]
    if data.line_nos is not None:
        by_no = {line.line_no: line for line in lines}
        unknown = [n for n in data.line_nos if n not in by_no]
        if unknown:
            raise Conflict(
                f"lines {', '.join(map(str, unknown))} are not waiting at {data.location_id}"
            )
        lines = [by_no[n] for n in data.line_nos]
    if not lines:
        raise Conflict(f"order '{order_id}' has nothing waiting to ship at {data.location_id}")
    if order.method == "click_collect" and data.location_id == order.pickup_location_id:
        raise Conflict("these lines are at the pickup branch already: mark the order ready")
    now = env.clock()
    shipment = Shipment(
        id=new_id("shp"),
        order_id=order.id,
        from_location_id=data.location_id,
        to_location_id=order.pickup_location_id if order.method == "click_collect" else None,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        tracking_url=data.tracking_url,
        status="shipped",
        created_at=now,
        updated_at=now,
    )
    session.add(shipment)
    stock.lock(session, {(data.location_id, line.sku) for line in lines})
    for line in lines:
        stock.sell_held(
            session,
            holder=holder(order.id),
            key=(data.location_id, line.sku),
            quantity=line.quantity,
            reference=order.id,
            now=now,
        )
        line.status = "shipped"
        line.shipment_id = shipment.id
    _refresh_status(session, order, now)
    _timeline(session, order.id, "shipped", _shipment_detail(shipment), now)
    session.flush()
    emit(session, [_event(order, "Order Shipped", env, **_shipment_detail(shipment))], now)
    return order_out(session, order, env)


def update_shipment(
    session: Session, shipment_id: str, data: ShipmentUpdate, env: CommerceEnv
) -> OrderOut:
    """Record a carrier status; delivered lines are done, and the customer is told."""
    shipment = session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise NotFound(f"no shipment '{shipment_id}'")
    return _apply_shipment_status(session, shipment, data.status, data.note, env)


def carrier_update(session: Session, data: CarrierUpdate, env: CommerceEnv) -> CarrierAck:
    """Apply a carrier webhook's status to the parcel with that tracking number."""
    shipment = session.scalar(
        select(Shipment)
        .where(Shipment.carrier == data.carrier, Shipment.tracking_number == data.tracking_number)
        .with_for_update()
    )
    if shipment is None:
        raise NotFound(f"no {data.carrier} parcel has tracking number '{data.tracking_number}'")
    _apply_shipment_status(session, shipment, data.status, data.note, env)
    return CarrierAck(shipment_id=shipment.id, status=shipment.status)


def return_items(session: Session, order_id: str, data: ReturnIn, env: CommerceEnv) -> OrderOut:
    """Take items back onto a location's shelf, refund them, and sell any exchange."""
    order = _load(session, order_id, for_update=True)
    skus = [line.sku for line in data.lines] + [line.sku for line in data.exchange]
    catalog.require_known(session, skus=skus, location_ids=[data.location_id])
    location = session.get(Location, data.location_id)
    if location is None or location.kind == "pickup_point":
        raise Unprocessable(f"pickup points hold no stock: {data.location_id}")
    lines = _lines(session, order.id)
    now = env.clock()
    stock.lock(session, {(data.location_id, sku) for sku in skus})
    returned: list[dict[str, Any]] = []
    for asked in _summed(data.lines):
        room = [line for line in lines if line.sku == asked.sku and line.status in GONE]
        can = sum(line.quantity - line.returned for line in room)
        if asked.quantity > can:
            raise Conflict(
                f"order '{order_id}' has {can} x {asked.sku} handed over and not returned; "
                f"{asked.quantity} cannot come back",
                details={"sku": asked.sku, "returnable": can},
            )
        left = asked.quantity
        amount = 0
        for line in room:
            taken = min(left, line.quantity - line.returned)
            line.returned += taken
            amount += taken * line.unit_price_satang
            left -= taken
        stock.receive(
            session,
            key=(data.location_id, asked.sku),
            quantity=asked.quantity,
            kind="return",
            reference=order.id,
            now=now,
        )
        returned.append({"sku": asked.sku, "quantity": asked.quantity, "amount_satang": amount})
    refund = sum(item["amount_satang"] for item in returned)
    record = Return(
        id=new_id("ret"),
        order_id=order.id,
        location_id=data.location_id,
        lines=returned,
        reason=data.reason,
        refund_satang=refund,
        created_at=now,
    )
    session.add(record)
    events = []
    if data.exchange:
        exchange = _exchange(session, order, data, env, now)
        record.exchange_order_id = exchange.id
        events.append(
            _event(
                exchange,
                "Order Exchanged",
                env,
                replaces=order.id,
                products=_products(session, exchange),
            )
        )
    # Refunded in full only when every line was handed over and has come back.
    live = [line for line in lines if line.status != "cancelled"]
    all_back = all(line.status in GONE and line.returned == line.quantity for line in live)
    order.payment_status = "refunded" if all_back else "partially_refunded"
    order.payment = {**order.payment, "status": order.payment_status}
    order.updated_at = now
    _timeline(
        session,
        order.id,
        "returned",
        {"return_id": record.id, "refund": str(baht(refund)), "location_id": data.location_id},
        now,
    )
    session.flush()
    products = [
        {
            "sku": item["sku"],
            "quantity": item["quantity"],
            "price": float(baht(item["amount_satang"] // item["quantity"])),
        }
        for item in returned
    ]
    events.insert(
        0,
        _event(
            order,
            "Order Refunded",
            env,
            total=float(baht(refund)),
            reason=data.reason,
            return_id=record.id,
            products=products,
        ),
    )
    notify_back_in_stock(session, [(data.location_id, item["sku"]) for item in returned], env)
    emit(session, events, now)
    return order_out(session, order, env)


def subscribe(session: Session, data: AlertIn, env: CommerceEnv) -> AlertOut:
    """Ask to be told when a SKU is back (anywhere, or at one branch); repeats are one."""
    profile_id, _ = carts.resolve_customer(session, data.customer, env)
    if profile_id is None:
        raise NotFound("the customer must be known (have a profile) to be told of stock")
    catalog.require_known(
        session, skus=[data.sku], location_ids=[data.location_id] if data.location_id else []
    )
    existing = session.scalar(
        select(StockAlert).where(
            StockAlert.profile_id == profile_id,
            StockAlert.sku == data.sku,
            StockAlert.location_id.is_(None)
            if data.location_id is None
            else StockAlert.location_id == data.location_id,
            StockAlert.notified_at.is_(None),
        )
    )
    if existing is None:
        existing = StockAlert(
            id=new_id("alr"),
            profile_id=profile_id,
            sku=data.sku,
            location_id=data.location_id,
            created_at=env.clock(),
        )
        session.add(existing)
        session.flush()
    return _alert_out(existing)


def notify_back_in_stock(session: Session, keys: Sequence[Key], env: CommerceEnv) -> int:
    """Emit Back In Stock for everyone waiting on these keys; return how many were told."""
    if not keys:
        return 0
    skus = sorted({sku for _, sku in keys})
    locations_of: dict[str, set[str]] = defaultdict(set)
    for location, sku in keys:
        locations_of[sku].add(location)
    waiting = session.scalars(
        select(StockAlert).where(StockAlert.sku.in_(skus), StockAlert.notified_at.is_(None))
    )
    now = env.clock()
    found = catalog.variants(session, skus)
    events = []
    for alert in waiting:
        places = locations_of[alert.sku]
        if alert.location_id is not None and alert.location_id not in places:
            continue
        alert.notified_at = now
        variant, product = found[alert.sku]
        events.append(
            Emitted(
                "Back In Stock",
                {
                    "sku": alert.sku,
                    "product_id": product.id,
                    "name": product.name,
                    "price": float(baht(variant.price_satang)),
                    "currency": env.currency,
                    "location_id": alert.location_id or sorted(places)[0],
                },
                alert.profile_id,
            )
        )
    emit(session, events, now)
    return len(events)


def order_out(session: Session, order: Order, env: CommerceEnv) -> OrderOut:
    """Return an order with its lines, timeline, shipments and returns."""
    lines = _lines(session, order.id)
    found = catalog.variants(session, [line.sku for line in lines])
    timeline = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    )
    shipments = session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.created_at)
    )
    returns = session.scalars(
        select(Return).where(Return.order_id == order.id).order_by(Return.created_at)
    )
    return OrderOut(
        id=order.id,
        profile_id=order.profile_id,
        channel=order.channel,
        status=order.status,
        payment_status=order.payment_status,
        payment=order.payment,
        method=order.method,
        pickup_location_id=order.pickup_location_id,
        address=order.address,
        total=baht(order.total_satang),
        currency=env.currency,
        exchange_of=order.exchange_of,
        routing=order.routing,
        lines=[
            OrderLineOut(
                line_no=line.line_no,
                sku=line.sku,
                name=found[line.sku][1].name if line.sku in found else line.sku,
                quantity=line.quantity,
                unit_price=baht(line.unit_price_satang),
                location_id=line.location_id,
                status=line.status,
                expected_on=line.expected_on,
                shipment_id=line.shipment_id,
                returned=line.returned,
            )
            for line in lines
        ],
        timeline=[OrderEventOut(status=e.status, detail=e.detail, at=e.at) for e in timeline],
        shipments=[_shipment_out(row) for row in shipments],
        returns=[
            ReturnOut(
                id=row.id,
                order_id=row.order_id,
                location_id=row.location_id,
                lines=row.lines,
                reason=row.reason,
                refund=baht(row.refund_satang),
                exchange_order_id=row.exchange_order_id,
                created_at=row.created_at,
            )
            for row in returns
        ],
        created_at=order.created_at,
    )


def count_wrong_code(db: Database, order_id: str) -> None:
    """Keep a failed pickup attempt although the request that made it is refused."""
    with db.transaction() as session:
        order = session.get(Order, order_id, with_for_update=True)
        if order is not None:
            order.pickup_failures += 1


# -- internals ---------------------------------------------------------------------------------


def _load(session: Session, order_id: str, *, for_update: bool = False) -> Order:
    order = session.get(Order, order_id, with_for_update=for_update)
    if order is None:
        raise NotFound(f"no order '{order_id}'")
    return order


def _lines(session: Session, order_id: str) -> list[OrderLine]:
    return list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
        )
    )


def _branch(session: Session, location_id: str | None, method: str) -> Location:
    if location_id is None:
        raise Unprocessable(f"{method} needs location_id")
    catalog.require_known(session, location_ids=[location_id])
    row = session.get(Location, location_id)
    assert row is not None
    if not row.active:
        raise Conflict(f"{location_id} is closed (inactive)")
    if method not in row.fulfilment:
        offers = ", ".join(row.fulfilment) or "nothing"
        raise Conflict(f"{location_id} does not offer {method}; it offers {offers}")
    return row


def _plan(
    session: Session,
    wanted: dict[str, int],
    data: CheckoutIn,
    site: Location | None,
    releasing: str | None,
    env: CommerceEnv,
    found: dict[str, Any],
) -> Plan:
    """Route the wanted units, counting what the cart itself holds as available to it."""
    available = stock.available_by_location(session, wanted, env.clock(), keep=releasing)
    if releasing is not None:
        for (location, sku), units in stock.held_by(session, [releasing])[releasing].items():
            available[location][sku] = available[location].get(sku, 0) + units
    rule = env.settings.routing
    if data.method == "in_store":
        assert site is not None
        shelves = [site]
        rule = rule.model_copy(update={"allow_split": False, "allow_backorder": False})
    else:
        shelves = [
            row
            for row in catalog.locations(session).values()
            if row.active
            and row.kind != "pickup_point"
            and ("delivery" in row.fulfilment or (site is not None and row.id == site.id))
        ]
    destination = None
    if site is not None and site.latitude is not None and site.longitude is not None:
        destination = (site.latitude, site.longitude)
    elif data.address is not None and data.address.latitude is not None:
        assert data.address.longitude is not None
        destination = (data.address.latitude, data.address.longitude)
    plan = route(
        wanted,
        [Site(row.id, row.latitude, row.longitude, available.get(row.id, {})) for row in shelves],
        destination=destination,
        rule=rule,
        lead_times={sku: found[sku][0].lead_time_days for sku in wanted},
        first=None if site is None else site.id,
    )
    if plan.short:
        where = "at " + site.id if data.method == "in_store" and site else "anywhere"
        short = [
            (
                (site.id if site and data.method == "in_store" else "*", sku),
                wanted[sku],
                wanted[sku] - units,
            )
            for sku, units in sorted(plan.short.items())
        ]
        details = stock.shortage(session, short)
        for item in details:
            item["substitutes"] = substitutes_of(session, str(item["sku"]))
        raise stock.OutOfStock(
            f"not enough stock {where}: "
            + "; ".join(f"{sku} short by {units}" for sku, units in sorted(plan.short.items())),
            details={"short": details, "routing": plan.as_dict()},
        )
    return plan


def substitutes_of(
    session: Session, sku: str, location_id: str | None = None
) -> list[dict[str, Any]]:
    """Return the product's substitutes in stock now (at one location, or anywhere)."""
    found = catalog.variants(session, [sku])
    if sku not in found or not found[sku][1].substitutes:
        return []
    products = catalog.products_out(session, _products_by_id(session, found[sku][1].substitutes))
    skus = [variant.sku for product in products for variant in product.variants if variant.active]
    shelves = stock.available_by_location(session, skus)
    result = []
    for product in products:
        for variant in product.variants:
            if location_id is not None:
                available = shelves.get(location_id, {}).get(variant.sku, 0)
            else:
                available = sum(shelf.get(variant.sku, 0) for shelf in shelves.values())
            if available > 0 and variant.active:
                result.append(
                    {
                        "product_id": product.id,
                        "sku": variant.sku,
                        "name": product.name,
                        "price": str(variant.price),
                        "available": available,
                    }
                )
    return result


def _products_by_id(session: Session, ids: Sequence[str]) -> list[Product]:
    rows = {row.id: row for row in session.scalars(select(Product).where(Product.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def _add_lines(
    session: Session,
    order_id: str,
    plan: Plan,
    prices: dict[str, int],
    *,
    first: int,
    now: datetime,
) -> None:
    """Add one line per allocation of the plan, back-ordered ones with their expected date."""
    for number, allocation in enumerate(plan.allocations, start=first):
        days = allocation.lead_time_days
        session.add(
            OrderLine(
                order_id=order_id,
                line_no=number,
                sku=allocation.sku,
                quantity=allocation.quantity,
                unit_price_satang=prices[allocation.sku],
                location_id=allocation.location_id,
                status="allocated" if allocation.location_id else "backordered",
                expected_on=None if days is None else (now + timedelta(days=days)).date(),
            )
        )


def _placed(plan: Plan) -> dict[Key, int]:
    wanted: dict[Key, int] = defaultdict(int)
    for allocation in plan.allocations:
        if allocation.location_id is not None:
            wanted[(allocation.location_id, allocation.sku)] += allocation.quantity
    return dict(wanted)


def _hand_over(session: Session, order: Order, now: datetime) -> None:
    """Hand the order over at the branch: held units leave the shelf."""
    lines = _lines(session, order.id)
    stock.lock(session, {(str(ln.location_id), ln.sku) for ln in lines if ln.status == "allocated"})
    for line in lines:
        if line.status == "allocated":
            stock.sell_held(
                session,
                holder=holder(order.id),
                key=(str(line.location_id), line.sku),
                quantity=line.quantity,
                reference=order.id,
                now=now,
            )
            line.status = "collected"
        elif line.status == "delivered":
            line.status = "collected"
    order.status = "collected"
    order.updated_at = now
    _timeline(session, order.id, "collected", {"location_id": order.pickup_location_id}, now)


def _apply_shipment_status(
    session: Session, shipment: Shipment, status: str, note: str | None, env: CommerceEnv
) -> OrderOut:
    order = _load(session, shipment.order_id, for_update=True)
    if shipment.status == status:
        return order_out(session, order, env)
    if shipment.status in ("delivered", "returned"):
        raise Conflict(f"shipment '{shipment.id}' is {shipment.status} already")
    now = env.clock()
    shipment.status = status
    shipment.updated_at = now
    if status == "delivered":
        for line in _lines(session, order.id):
            if line.shipment_id == shipment.id:
                line.status = "delivered"
    _refresh_status(session, order, now)
    detail = {**_shipment_detail(shipment), "status": status, "note": note}
    _timeline(session, order.id, f"shipment_{status}", detail, now)
    session.flush()
    if status == "delivered" and shipment.to_location_id is None:
        event = _event(order, "Order Delivered", env, **_shipment_detail(shipment))
    else:
        event = _event(
            order, "Shipment Updated", env, status=status, note=note, **_shipment_detail(shipment)
        )
    emit(session, [event], now)
    return order_out(session, order, env)


def _refresh_status(session: Session, order: Order, now: datetime) -> None:
    lines = [line for line in _lines(session, order.id) if line.status != "cancelled"]
    if order.method == "click_collect":
        return
    statuses = {line.status for line in lines}
    if statuses and statuses <= {"delivered"}:
        order.status = "delivered"
    elif statuses and statuses <= {"shipped", "delivered"}:
        order.status = "shipped"
    elif statuses & {"shipped", "delivered"}:
        order.status = "partially_shipped"
    order.updated_at = now


def _shipped_to(session: Session, line: OrderLine) -> str | None:
    if line.shipment_id is None:
        return None
    shipment = session.get(Shipment, line.shipment_id)
    return None if shipment is None else shipment.to_location_id


def _exchange(
    session: Session, order: Order, data: ReturnIn, env: CommerceEnv, now: datetime
) -> Order:
    """Sell the exchange items at the counter, as an order of their own."""
    wanted = {line.sku: line.quantity for line in _summed(data.exchange)}
    found = catalog.variants(session, wanted)
    retired = sorted(sku for sku in wanted if not found[sku][0].active)
    if retired:
        raise Conflict(f"no longer sold, so not exchangeable: {', '.join(retired)}")
    exchange = Order(
        id=new_id("ord"),
        profile_id=order.profile_id,
        visitor=order.visitor,
        channel="pos",
        status="placed",
        payment_status="paid",
        payment={"status": "paid", "method": "exchange", "reference": order.id},
        method="in_store",
        pickup_location_id=data.location_id,
        routing={"explanation": [f"exchange at {data.location_id} for order {order.id}"]},
        total_satang=sum(found[sku][0].price_satang * qty for sku, qty in wanted.items()),
        exchange_of=order.id,
        created_at=now,
        updated_at=now,
    )
    session.add(exchange)
    stock.hold(
        session,
        holder=holder(exchange.id),
        wanted={(data.location_id, sku): qty for sku, qty in wanted.items()},
        expires_at=None,
        now=now,
    )
    here = Plan([Allocation(sku, qty, data.location_id) for sku, qty in sorted(wanted.items())])
    prices = {sku: found[sku][0].price_satang for sku in wanted}
    _add_lines(session, exchange.id, here, prices, first=1, now=now)
    _timeline(session, exchange.id, "placed", {"exchange_of": order.id}, now)
    session.flush()
    _hand_over(session, exchange, now)
    return exchange


def _summed(lines: Sequence[Line]) -> list[Line]:
    total: dict[str, int] = defaultdict(int)
    for line in lines:
        total[line.sku] += line.quantity
    return [Line(sku=sku, quantity=qty) for sku, qty in sorted(total.items())]


def _checkout_of(order: Order) -> CheckoutIn:
    if order.method == "delivery" and not order.address:
        raise Conflict(f"order '{order.id}' has no delivery address any more (erased)")
    return CheckoutIn.model_validate(
        {
            "channel": order.channel,
            "method": order.method,
            "location_id": order.pickup_location_id,
            "address": order.address,
        }
    )


def _products(session: Session, order: Order) -> list[dict[str, Any]]:
    totals: dict[str, tuple[int, int]] = {}
    for line in _lines(session, order.id):
        quantity, price = totals.get(line.sku, (0, line.unit_price_satang))
        totals[line.sku] = (quantity + line.quantity, price)
    found = catalog.variants(session, totals)
    return [
        {
            "product_id": found[sku][1].id,
            "sku": sku,
            "name": found[sku][1].name,
            "category": found[sku][1].category,
            "price": float(baht(price)),
            "quantity": quantity,
        }
        for sku, (quantity, price) in sorted(totals.items())
        if sku in found
    ]


def _event(order: Order, name: str, env: CommerceEnv, **extra: Any) -> Emitted:
    total = float(baht(order.total_satang))
    properties: dict[str, Any] = {
        "order_id": order.id,
        "currency": env.currency,
        "channel": order.channel,
        "method": order.method,
    }
    if name == "Order Completed":
        properties.update(total=total, revenue=total, payment_status=order.payment_status)
    properties.update({k: v for k, v in extra.items() if v is not None})
    return Emitted(name, properties, order.profile_id, order.visitor)


def _timeline(
    session: Session, order_id: str, status: str, detail: dict[str, Any], now: datetime
) -> None:
    session.add(
        OrderEvent(
            order_id=order_id,
            status=status,
            detail={k: v for k, v in detail.items() if v is not None},
            at=now,
        )
    )


def _shipment_detail(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": shipment.id,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "location_id": shipment.from_location_id,
    }


def _shipment_out(row: Shipment) -> ShipmentOut:
    return ShipmentOut(
        id=row.id,
        order_id=row.order_id,
        from_location_id=row.from_location_id,
        to_location_id=row.to_location_id,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _alert_out(row: StockAlert) -> AlertOut:
    return AlertOut(
        id=row.id,
        profile_id=row.profile_id,
        sku=row.sku,
        location_id=row.location_id,
        created_at=row.created_at,
        notified_at=row.notified_at,
    )
