"""One active cart per person, shared by web, app, LINE and the till.

A visitor's cart (opened with an anonymous id, or a user id Sampan has not seen yet) gets
its profile when the pipeline attributes the visitor's events; when two profiles merge,
their carts merge with them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sampan.commerce import catalog, stock
from sampan.commerce.catalog import baht
from sampan.commerce.events import Emitted, emit
from sampan.commerce.models import Cart, CartItem, Location
from sampan.commerce.rules import Site, route
from sampan.commerce.schemas import (
    CartItemOut,
    CartItemSet,
    CartOpen,
    CartOut,
    CommerceEnv,
    CustomerRef,
)
from sampan.core.errors import Conflict, NotFound, Unprocessable
from sampan.core.ids import new_id
from sampan.identity import service as identity
from sampan.profiles import service as profiles

_IDENTIFIERS = ("user_id", "anonymous_id", "email", "phone", "line_user_id")
_ATTEMPTS = 3


def resolve_customer(
    session: Session, ref: CustomerRef, env: CommerceEnv
) -> tuple[str | None, str | None]:
    """Return (profile id, visitor) for a customer reference: a profile when one is known."""
    if ref.profile_id is not None:
        return profiles.find_person(session, profile_id=ref.profile_id).profile_id, None
    given = [(kind, getattr(ref, kind)) for kind in _IDENTIFIERS if getattr(ref, kind)]
    normalised = [identity.normalise_identifier(kind, value, env.identity) for kind, value in given]
    found = identity.find_profile_ids(session, identifiers=normalised)
    if len(found) > 1:
        raise Conflict(
            "the identifiers belong to different people: " + ", ".join(found),
            details={"profile_ids": found},
        )
    if found:
        return found[0], None
    visitor = next((i for i in normalised if i.type in ("anonymous_id", "user_id")), None)
    if visitor is None:
        described = ", ".join(f"{i.type} '{i.value}'" for i in normalised)
        raise NotFound(f"no customer has {described}; name a visitor by anonymous_id instead")
    return None, f"{visitor.type}:{visitor.value}"


def open_cart(session: Session, data: CartOpen, env: CommerceEnv) -> CartOut:
    """Return the customer's active cart, opening one if they have none."""
    profile_id, visitor = resolve_customer(session, data.customer, env)
    if data.location_id is not None:
        catalog.require_known(session, location_ids=[data.location_id])
    now = env.clock()
    cart = active_cart(session, profile_id=profile_id, visitor=visitor)
    if cart is None:
        cart = Cart(
            id=new_id("crt"),
            profile_id=profile_id,
            visitor=visitor,
            status="active",
            channel=data.channel,
            location_id=data.location_id,
            created_at=now,
            updated_at=now,
        )
        session.add(cart)
        session.flush()
    elif data.location_id is not None and data.location_id != cart.location_id:
        cart.location_id = data.location_id
        cart.channel = data.channel
        cart.updated_at = now
        _rehold(session, cart, env, now)
    return cart_out(session, cart, env)


def active_cart(session: Session, *, profile_id: str | None, visitor: str | None) -> Cart | None:
    """Return the active cart of a profile, or of a visitor without one."""
    if profile_id is not None:
        where = Cart.profile_id == profile_id
    else:
        where = (Cart.visitor == visitor) & Cart.profile_id.is_(None)
    return session.scalar(select(Cart).where(where, Cart.status == "active"))


def get_cart(session: Session, cart_id: str, env: CommerceEnv) -> CartOut:
    """Return a cart, or raise NotFound."""
    return cart_out(session, load(session, cart_id), env)


def load(session: Session, cart_id: str, *, for_update: bool = False) -> Cart:
    """Return the cart row, or raise NotFound."""
    cart = session.get(Cart, cart_id, with_for_update=for_update)
    if cart is None:
        raise NotFound(f"no cart '{cart_id}'")
    return cart


def set_item(
    session: Session, cart_id: str, sku: str, data: CartItemSet, env: CommerceEnv
) -> CartOut:
    """Set the units of a SKU in the cart (0 removes it) and emit Product Added/Removed."""
    cart = _active(session, cart_id)
    found = catalog.variants(session, [sku])
    if sku not in found:
        raise Unprocessable(f"unknown SKU {sku}", details={"unknown_skus": [sku]})
    variant, product = found[sku]
    if not variant.active and data.quantity > 0:
        raise Conflict(f"{sku} is no longer sold")
    now = env.clock()
    item = session.get(CartItem, (cart.id, sku))
    before = 0 if item is None else item.quantity
    if data.quantity == 0 and item is not None:
        session.delete(item)
    elif data.quantity > 0:
        if item is None:
            item = CartItem(cart_id=cart.id, sku=sku, added_at=now)
            session.add(item)
        item.quantity = data.quantity
        item.unit_price_satang = variant.price_satang
        item.channel = data.channel
    cart.channel = data.channel
    cart.updated_at = now
    session.flush()
    _rehold(session, cart, env, now)
    change = data.quantity - before
    if change:
        properties = {
            "cart_id": cart.id,
            "product_id": product.id,
            "sku": sku,
            "name": product.name,
            "category": product.category,
            "price": float(baht(variant.price_satang)),
            "quantity": abs(change),
            "currency": env.currency,
            "channel": data.channel,
        }
        name = "Product Added" if change > 0 else "Product Removed"
        emit(session, [Emitted(name, properties, cart.profile_id, cart.visitor)], now)
    return cart_out(session, cart, env)


def items_of(session: Session, cart_id: str) -> list[CartItem]:
    """Return the cart's items by SKU."""
    return list(
        session.scalars(select(CartItem).where(CartItem.cart_id == cart_id).order_by(CartItem.sku))
    )


def cart_out(session: Session, cart: Cart, env: CommerceEnv) -> CartOut:
    """Return a cart as every channel shows it."""
    items = items_of(session, cart.id)
    found = catalog.variants(session, [item.sku for item in items])
    held: dict[str, int] = defaultdict(int)
    for (_, sku), units in stock.held_by(session, [holder(cart.id)])[holder(cart.id)].items():
        held[sku] += units
    available: dict[str, int] = defaultdict(int)
    for shelf in stock.available_by_location(session, [i.sku for i in items]).values():
        for sku, count in shelf.items():
            available[sku] += count
    lines = [
        CartItemOut(
            sku=item.sku,
            product_id=found[item.sku][1].id,
            name=found[item.sku][1].name,
            quantity=item.quantity,
            unit_price=baht(item.unit_price_satang),
            line_total=baht(item.unit_price_satang * item.quantity),
            channel=item.channel,
            held=held[item.sku],
            available=available[item.sku],
        )
        for item in items
        if item.sku in found
    ]
    return CartOut(
        id=cart.id,
        profile_id=cart.profile_id,
        visitor=cart.visitor,
        status=cart.status,
        channel=cart.channel,
        location_id=cart.location_id,
        merged_into=cart.merged_into,
        order_id=cart.order_id,
        items=lines,
        total=baht(sum(i.unit_price_satang * i.quantity for i in items)),
        currency=env.currency,
        holds_expire_at=stock.earliest_expiry(session, holder(cart.id)),
        updated_at=cart.updated_at,
    )


def holder(cart_id: str) -> str:
    """Return the name a cart holds stock under."""
    return f"cart:{cart_id}"


def merge_profiles(session: Session, *, survivor: str, merged: str, now: datetime) -> None:
    """Give the merged-away profile's active cart to the survivor, joining the two carts."""
    theirs = active_cart(session, profile_id=merged, visitor=None)
    if theirs is None:
        return
    _join(session, theirs, survivor, now)


def attach_visitors(session: Session, *, owners: dict[str, str], now: datetime) -> None:
    """Give visitors' carts (``visitor -> profile id``) to the profiles now known for them."""
    if not owners:
        return
    carts = session.scalars(
        select(Cart).where(
            Cart.visitor.in_(sorted(owners)), Cart.profile_id.is_(None), Cart.status == "active"
        )
    )
    for cart in list(carts):
        _join(session, cart, owners[cart.visitor or ""], now)


def _join(session: Session, cart: Cart, profile_id: str, now: datetime) -> None:
    """Make ``cart`` the profile's, or pour it into the profile's own active cart."""
    target = active_cart(session, profile_id=profile_id, visitor=None)
    if target is None:
        cart.profile_id = profile_id
        cart.updated_at = now
        session.flush()
        return
    for item in items_of(session, cart.id):
        mine = session.get(CartItem, (target.id, item.sku))
        if mine is None:
            session.add(
                CartItem(
                    cart_id=target.id,
                    sku=item.sku,
                    quantity=item.quantity,
                    unit_price_satang=item.unit_price_satang,
                    channel=item.channel,
                    added_at=item.added_at,
                )
            )
        else:
            mine.quantity += item.quantity
        session.delete(item)
    cart.status = "merged"
    cart.merged_into = target.id
    cart.updated_at = now
    target.updated_at = now
    session.flush()
    # The joined items are held again at the cart's next change or at checkout: holding
    # them here could lock stock rows out of order within the pipeline's transaction.
    stock.release(session, holder=holder(cart.id), now=now)


def _active(session: Session, cart_id: str) -> Cart:
    cart = load(session, cart_id, for_update=True)
    if cart.status == "merged":
        raise Conflict(
            f"cart '{cart_id}' was merged into '{cart.merged_into}'",
            details={"merged_into": cart.merged_into},
        )
    if cart.status != "active":
        raise Conflict(
            f"cart '{cart_id}' became order '{cart.order_id}'", details={"order_id": cart.order_id}
        )
    return cart


def _rehold(session: Session, cart: Cart, env: CommerceEnv, now: datetime) -> None:
    """Hold the cart's units (when holds start at the cart), at its branch or by routing.

    Units nobody has are not held; checkout reports them. Expiry restarts with each change.
    """
    if env.settings.reserve_at != "cart":
        return
    items = {item.sku: item.quantity for item in items_of(session, cart.id)}
    expires = now + timedelta(minutes=env.settings.cart_hold_minutes)
    for attempt in range(_ATTEMPTS):
        wanted = _cart_plan(session, cart, items, env, now)
        try:
            # A savepoint: when another buyer takes the units between planning and holding
            # (PostgreSQL), plan again on what is left.
            with session.begin_nested():
                stock.hold(
                    session,
                    holder=holder(cart.id),
                    wanted=wanted,
                    expires_at=expires,
                    now=now,
                    replaces=holder(cart.id),
                )
            return
        except stock.OutOfStock:
            if attempt == _ATTEMPTS - 1:
                raise


def _cart_plan(
    session: Session, cart: Cart, items: dict[str, int], env: CommerceEnv, now: datetime
) -> dict[tuple[str, str], int]:
    """Return where to hold each item: the cart's branch, else by the routing rule."""
    mine = stock.held_by(session, [holder(cart.id)])[holder(cart.id)]
    available = stock.available_by_location(session, items, now, keep=holder(cart.id))
    for (location, sku), units in mine.items():
        available[location][sku] = available[location].get(sku, 0) + units
    shelves = [
        row
        for row in catalog.locations(session, available).values()
        if row.active and row.kind != "pickup_point"
    ]
    if cart.location_id is not None:
        shelves = [row for row in shelves if row.id == cart.location_id]
    wanted: dict[tuple[str, str], int] = {}
    for sku, quantity in items.items():
        plan = route(
            {sku: quantity},
            [_site(row, available) for row in shelves],
            destination=None,
            rule=env.settings.routing,
            lead_times={},
        )
        for allocation in plan.allocations:
            if allocation.location_id is not None:
                wanted[(allocation.location_id, sku)] = allocation.quantity
    return wanted


def _site(row: Location, available: dict[str, dict[str, int]]) -> Site:
    return Site(row.id, row.latitude, row.longitude, available.get(row.id, {}))
