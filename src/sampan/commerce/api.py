"""HTTP routes of commerce under /api/commerce, and the carriers' webhook."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from sampan.access import service as access
from sampan.access.guards import audit_log, require
from sampan.access.schemas import Principal
from sampan.commerce import service
from sampan.commerce.schemas import (
    AlertIn,
    AlertOut,
    Availability,
    BulkStockIn,
    BulkStockOut,
    CarrierAck,
    CarrierUpdate,
    CartItemSet,
    CartOpen,
    CartOut,
    CheckoutIn,
    CommerceEnv,
    CounterView,
    ImportOut,
    LocationIn,
    LocationOut,
    MovementOut,
    OrderOut,
    PaymentUpdate,
    PickList,
    PickupIn,
    ProductIn,
    ProductOut,
    ReturnIn,
    ShipmentIn,
    ShipmentUpdate,
    StockLevel,
    TransferIn,
    TransferOut,
)
from sampan.core.errors import InvalidInput, Unauthorized
from sampan.db.engine import Database
from sampan.db.requests import database

router = APIRouter(prefix="/api/commerce", tags=["commerce"])
public = APIRouter(tags=["commerce"])
Db = Annotated[Database, Depends(database)]
Reader = Annotated[Principal, require("commerce:read")]
Writer = Annotated[Principal, require("commerce:write")]
Manager = Annotated[Principal, require("commerce:manage")]
AuditLog = Annotated[access.AuditBatcher, Depends(audit_log)]
CSV_BODY = Body(media_type="text/csv", description="UTF-8 CSV with a header row")
MAX_CSV_BYTES = 20 * 1024 * 1024


async def _env(request: Request) -> CommerceEnv:
    env = request.app.state.commerce_env
    assert isinstance(env, CommerceEnv)
    return env


Env = Annotated[CommerceEnv, Depends(_env)]


# -- catalogue and locations -------------------------------------------------------------------


@router.put("/products", response_model=ImportOut, summary="Create or update products")
def put_products(data: list[ProductIn], db: Db, env: Env, _: Manager) -> ImportOut:
    """Save products with their variants; all or nothing."""
    with db.transaction() as session:
        return service.import_products(session, data, env)


@router.post(
    "/products/import",
    response_model=ImportOut,
    summary="Import products from CSV",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_products(request: Request, db: Db, env: Env, _: Manager) -> ImportOut:
    """One row per variant: product_id, name, sku, price, optional columns; all or nothing."""
    products = service.parse_products_csv(await _csv(request))

    def save() -> ImportOut:
        with db.transaction() as session:
            return service.import_products(session, products, env)

    return await run_in_threadpool(save)


@router.get("/products", response_model=list[ProductOut], summary="List products")
def list_products(
    db: Db,
    _: Reader,
    category: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ProductOut]:
    """Return products by id, by category or matching a name, SKU or barcode."""
    with db.reading() as session:
        return service.list_products(
            session, category=category, query=q, limit=limit, offset=offset
        )


@router.get("/products/{product_id}", response_model=ProductOut, summary="Get a product")
def get_product(product_id: str, db: Db, _: Reader) -> ProductOut:
    """Return one product and its variants."""
    with db.reading() as session:
        return service.get_product(session, product_id)


@router.put("/locations", response_model=ImportOut, summary="Create or update locations")
def put_locations(data: list[LocationIn], db: Db, env: Env, _: Manager) -> ImportOut:
    """Save branches, warehouses and pickup points; all or nothing."""
    with db.transaction() as session:
        return service.import_locations(session, data, env)


@router.post(
    "/locations/import",
    response_model=ImportOut,
    summary="Import locations from CSV",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_locations(request: Request, db: Db, env: Env, _: Manager) -> ImportOut:
    """Columns id, name, kind and optional address, latitude, longitude, fulfilment, hours."""
    locations = service.parse_locations_csv(await _csv(request))

    def save() -> ImportOut:
        with db.transaction() as session:
            return service.import_locations(session, locations, env)

    return await run_in_threadpool(save)


@router.get("/locations", response_model=list[LocationOut], summary="List locations")
def list_locations(
    db: Db, _: Reader, kind: Literal["branch", "warehouse", "pickup_point"] | None = None
) -> list[LocationOut]:
    """Return locations by id."""
    with db.reading() as session:
        return service.list_locations(session, kind=kind)


# -- stock ---------------------------------------------------------------------------------------


@router.get("/stock", response_model=list[StockLevel], summary="Stock levels")
def stock_levels(
    db: Db,
    _: Reader,
    location_id: str | None = None,
    sku: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5_000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[StockLevel]:
    """Return on hand, held, available and incoming units per location and SKU."""
    with db.reading() as session:
        return service.stock_levels(
            session, location_id=location_id, sku=sku, limit=limit, offset=offset
        )


@router.get("/availability/{code}", response_model=Availability, summary="Where a SKU is available")
def availability(code: str, db: Db, _: Reader, location_id: str | None = None) -> Availability:
    """Return a SKU's (or barcode's) stock per location, and substitutes when it is out.

    With ``location_id``, substitutes are offered when it is out at that branch.
    """
    with db.reading() as session:
        return service.availability(session, code, location_id=location_id)


@router.post("/stock/updates", response_model=BulkStockOut, summary="Bulk stock update (POS/ERP)")
def bulk_update(
    data: BulkStockIn,
    db: Db,
    env: Env,
    _: Manager,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=200)],
) -> BulkStockOut:
    """Apply receipts, sales, returns, adjustments and counts together, once per key."""
    with db.transaction() as session:
        return service.bulk_update(session, data, key=idempotency_key, env=env)


@router.post("/transfers", response_model=TransferOut, status_code=201, summary="Send a transfer")
def send_transfer(data: TransferIn, db: Db, env: Env, _: Manager) -> TransferOut:
    """Take units off one location's shelf; they are in transit until received."""
    with db.transaction() as session:
        return service.send_transfer(session, data, env)


@router.get("/transfers", response_model=list[TransferOut], summary="List transfers")
def list_transfers(
    db: Db,
    _: Reader,
    status: Literal["in_transit", "received"] | None = None,
    location_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> list[TransferOut]:
    """Return the newest transfers, e.g. what is on its way to a branch."""
    with db.reading() as session:
        return service.list_transfers(session, status=status, location_id=location_id, limit=limit)


@router.post(
    "/transfers/{transfer_id}/receive", response_model=TransferOut, summary="Receive a transfer"
)
def receive_transfer(transfer_id: str, db: Db, env: Env, _: Writer) -> TransferOut:
    """Put a transfer's units on the receiving shelf."""
    with db.transaction() as session:
        return service.receive_transfer(session, transfer_id, env)


@router.get("/movements", response_model=list[MovementOut], summary="The stock ledger")
def movements(
    db: Db,
    _: Reader,
    location_id: str | None = None,
    sku: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> list[MovementOut]:
    """Return the newest movements: receipts, sales, returns, adjustments, transfers."""
    with db.reading() as session:
        return service.movements(session, location_id=location_id, sku=sku, limit=limit)


@router.post(
    "/stock-alerts", response_model=AlertOut, status_code=201, summary="Tell me when it is back"
)
def subscribe(data: AlertIn, db: Db, env: Env, _: Writer) -> AlertOut:
    """Subscribe a customer to a Back In Stock event for a SKU (anywhere or at one branch)."""
    with db.transaction() as session:
        return service.subscribe(session, data, env)


# -- carts ---------------------------------------------------------------------------------------


@router.post("/carts", response_model=CartOut, summary="Open or find the customer's cart")
def open_cart(data: CartOpen, db: Db, env: Env, _: Writer) -> CartOut:
    """Return the customer's one active cart, the same from every channel."""
    with db.transaction() as session:
        return service.open_cart(session, data, env)


@router.get("/carts/{cart_id}", response_model=CartOut, summary="Get a cart")
def get_cart(cart_id: str, db: Db, env: Env, _: Reader) -> CartOut:
    """Return a cart with its items, held units and availability."""
    with db.reading() as session:
        return service.get_cart(session, cart_id, env)


@router.put("/carts/{cart_id}/items/{sku}", response_model=CartOut, summary="Set a cart item")
def set_item(cart_id: str, sku: str, data: CartItemSet, db: Db, env: Env, _: Writer) -> CartOut:
    """Set the units of a SKU in the cart; 0 removes it."""
    with db.transaction() as session:
        return service.set_item(session, cart_id, sku, data, env)


@router.delete("/carts/{cart_id}/items/{sku}", response_model=CartOut, summary="Remove a cart item")
def remove_item(
    cart_id: str,
    sku: str,
    db: Db,
    env: Env,
    _: Writer,
    channel: Annotated[str, Query(pattern=r"^[a-z][a-z_]*$", max_length=20)] = "web",
) -> CartOut:
    """Take a SKU out of the cart."""
    with db.transaction() as session:
        return service.set_item(
            session, cart_id, sku, CartItemSet(quantity=0, channel=channel), env
        )


@router.get("/counter", response_model=CounterView, summary="Find a customer at the counter")
def counter(
    db: Db,
    env: Env,
    actor: Reader,
    log: AuditLog,
    phone: str | None = None,
    qr: str | None = None,
    line_user_id: str | None = None,
    email: str | None = None,
) -> CounterView:
    """Look the customer up by phone (any format), member QR, LINE id or e-mail."""
    given = {"phone": phone, "qr": qr, "line_user_id": line_user_id, "email": email}
    lookup = {key: value for key, value in given.items() if value}
    with db.reading() as session:
        found = service.counter_view(session, lookup=lookup, env=env)
    # Staff saw who the customer is: recorded like a profile lookup, after the read.
    log.record(
        actor=actor,
        action="profile.viewed",
        subject_type="profile",
        subject_id=found.profile_id,
        detail={"by": sorted(lookup), "via": "counter"},
    )
    return found


@router.post(
    "/carts/{cart_id}/checkout",
    response_model=OrderOut,
    status_code=201,
    summary="Check the cart out",
)
def checkout(
    cart_id: str,
    data: CheckoutIn,
    db: Db,
    env: Env,
    _: Writer,
    idempotency_key: Annotated[str | None, Header(min_length=8, max_length=200)] = None,
) -> OrderOut:
    """Route the cart's units to locations, hold them and place the order."""
    with db.transaction() as session:
        return service.checkout(session, cart_id, data, idempotency_key, env)


# -- orders --------------------------------------------------------------------------------------


@router.get("/orders", response_model=list[OrderOut], summary="A customer's orders")
def list_orders(
    db: Db,
    env: Env,
    _: Reader,
    profile_id: Annotated[str, Query(min_length=1, max_length=40)],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[OrderOut]:
    """Return the customer's newest orders from every channel (merged profiles included)."""
    with db.reading() as session:
        return service.list_orders(session, profile_id=profile_id, limit=limit, env=env)


@router.get("/carts", response_model=CartOut | None, summary="A customer's active cart")
def active_cart(
    db: Db,
    env: Env,
    _: Reader,
    profile_id: Annotated[str, Query(min_length=1, max_length=40)],
) -> CartOut | None:
    """Return the customer's active cart, or null when they have none."""
    with db.reading() as session:
        return service.active_cart_of(session, profile_id=profile_id, env=env)


@router.get("/orders/{order_id}", response_model=OrderOut, summary="Get an order")
def get_order(order_id: str, db: Db, env: Env, _: Reader) -> OrderOut:
    """Return an order with lines, routing, timeline, shipments and returns."""
    with db.reading() as session:
        return service.get_order(session, order_id, env)


@router.post("/orders/{order_id}/payment", response_model=OrderOut, summary="Record a payment")
def record_payment(order_id: str, data: PaymentUpdate, db: Db, env: Env, _: Writer) -> OrderOut:
    """Record the payment status the provider reported."""
    with db.transaction() as session:
        return service.record_payment(session, order_id, data, env)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, summary="Cancel an order")
def cancel(
    order_id: str,
    db: Db,
    env: Env,
    _: Writer,
    reason: Annotated[str, Body(embed=True, max_length=500)] = "",
) -> OrderOut:
    """Cancel an order nothing of which has left the shelf; its units go back on sale."""
    with db.transaction() as session:
        return service.cancel(session, order_id, reason, env)


@router.post(
    "/orders/{order_id}/allocate", response_model=OrderOut, summary="Route back-orders again"
)
def allocate(order_id: str, db: Db, env: Env, _: Writer) -> OrderOut:
    """Route back-ordered lines again, now that stock may have arrived."""
    with db.transaction() as session:
        return service.allocate_backorders(session, order_id, env)


@router.get("/orders/{order_id}/pick-list", response_model=PickList, summary="Pick list")
def pick_list(
    order_id: str, db: Db, _: Reader, location_id: Annotated[str, Query(min_length=1)]
) -> PickList:
    """Return what one location must take off its shelves for the order."""
    with db.reading() as session:
        return service.pick_list(session, order_id, location_id)


@router.post("/orders/{order_id}/ready", response_model=OrderOut, summary="Ready for pickup")
def ready(order_id: str, db: Db, env: Env, _: Writer) -> OrderOut:
    """Mark a click & collect order ready; the answer carries the new pickup code once."""
    with db.transaction() as session:
        return service.ready_for_pickup(session, order_id, env)


@router.post("/orders/{order_id}/collect", response_model=OrderOut, summary="Hand over")
def collect(order_id: str, data: PickupIn, db: Db, env: Env, _: Writer) -> OrderOut:
    """Hand the order over when the customer's pickup code matches."""
    try:
        with db.transaction() as session:
            return service.collect(session, order_id, data, env)
    except service.WrongCode:
        service.count_wrong_code(db, order_id)
        raise


@router.post(
    "/orders/{order_id}/shipments", response_model=OrderOut, status_code=201, summary="Ship"
)
def ship(order_id: str, data: ShipmentIn, db: Db, env: Env, _: Writer) -> OrderOut:
    """Parcel the lines held at one location with a carrier."""
    with db.transaction() as session:
        return service.ship(session, order_id, data, env)


@router.post("/shipments/{shipment_id}/status", response_model=OrderOut, summary="Shipment status")
def shipment_status(
    shipment_id: str, data: ShipmentUpdate, db: Db, env: Env, _: Writer
) -> OrderOut:
    """Record a parcel's status; the customer is told through the journeys."""
    with db.transaction() as session:
        return service.update_shipment(session, shipment_id, data, env)


@router.post(
    "/orders/{order_id}/returns", response_model=OrderOut, status_code=201, summary="Return"
)
def return_items(order_id: str, data: ReturnIn, db: Db, env: Env, _: Writer) -> OrderOut:
    """Take items back to a location's shelf, refund them, and sell any exchange."""
    with db.transaction() as session:
        return service.return_items(session, order_id, data, env)


@public.post("/webhooks/commerce/carrier", response_model=CarrierAck, summary="Carrier webhook")
async def carrier_webhook(
    request: Request,
    db: Db,
    env: Env,
    x_sampan_signature: Annotated[str | None, Header()] = None,
) -> CarrierAck:
    """Apply a carrier's parcel status, signed with HMAC-SHA256 of the body (hex)."""
    body = await request.body()
    secret = env.settings.carrier_webhook_secret
    if not secret:
        raise Unauthorized("the carrier webhook is off: set commerce.carrier_webhook_secret")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not x_sampan_signature or not hmac.compare_digest(expected, x_sampan_signature.lower()):
        raise Unauthorized("X-Sampan-Signature is missing or does not match the body")
    try:
        data = CarrierUpdate.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput(f"not a carrier update: {exc.errors()[0]['msg']}") from exc

    def apply() -> CarrierAck:
        with db.transaction() as session:
            return service.carrier_update(session, data, env)

    # Only the parcel's own status goes back: the carrier has no business with the order.
    return await run_in_threadpool(apply)


async def _csv(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise InvalidInput(f"the CSV is over {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the CSV is not UTF-8 (byte {exc.start}); save it as UTF-8 (Excel: CSV UTF-8)"
        ) from exc
