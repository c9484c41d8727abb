"""Tables owned by commerce: catalogue, locations, stock and its ledger, carts, orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sampan.db.base import Base, BigIntPK, JSONDoc, UTCDateTime


class Product(Base):
    """A product as customers know it; its variants are what is stocked and sold."""

    __tablename__ = "commerce_products"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300), default=None)
    category: Mapped[str | None] = mapped_column(String(120), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # Product ids offered when this one is out of stock, best first.
    substitutes: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Variant(Base):
    """A stock-keeping unit: one size or shade of a product, with its price in satang."""

    __tablename__ = "commerce_variants"
    __table_args__ = (CheckConstraint("price_satang >= 0", name="price_not_negative"),)

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    price_satang: Mapped[int] = mapped_column(BigInteger)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # Days a back-order takes to arrive; None uses the routing rule's default.
    lead_time_days: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Location(Base):
    """A branch, warehouse or pickup point (which holds no stock)."""

    __tablename__ = "commerce_locations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    # branch, warehouse, pickup_point
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    # {"mon": ["10:00", "22:00"], ...}; a missing day is closed.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # Any of delivery (ships to addresses), click_collect (hands orders over), in_store.
    fulfilment: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Stock(Base):
    """Units of one SKU at one location: on hand, held for carts and orders, and on the way."""

    __tablename__ = "commerce_stock"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("incoming >= 0", name="incoming_not_negative"),
        Index("ix_commerce_stock_sku", "sku"),
    )

    location_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    # Units transferred here and not yet received.
    incoming: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reservation(Base):
    """Units held for a cart (until it expires) or an order (until fulfilled or cancelled)."""

    __tablename__ = "commerce_reservations"
    __table_args__ = (
        Index("ix_commerce_reservations_holder", "holder", "status"),
        Index("ix_commerce_reservations_key", "location_id", "sku", "status"),
        Index("ix_commerce_reservations_expiry", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # "cart:<id>" or "order:<id>"
    holder: Mapped[str] = mapped_column(String(60))
    location_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    # active, released, expired, converted (to an order's hold), fulfilled
    status: Mapped[str] = mapped_column(String(12))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Movement(Base):
    """One line of the stock ledger: every change of units on hand or on the way."""

    __tablename__ = "commerce_movements"
    __table_args__ = (Index("ix_commerce_movements_key", "location_id", "sku", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    location_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    # receipt, sale, return, adjustment, count, transfer_out, transfer_in
    kind: Mapped[str] = mapped_column(String(20))
    # Change of units on hand (transfer_out: negative; in transit is on the transfer).
    quantity: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(120), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Transfer(Base):
    """Units sent from one location to another: out of stock there, in transit, then in."""

    __tablename__ = "commerce_transfers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    from_location_id: Mapped[str] = mapped_column(String(64))
    to_location_id: Mapped[str] = mapped_column(String(64))
    # in_transit, received
    status: Mapped[str] = mapped_column(String(12))
    # [{"sku": ..., "quantity": ...}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    reference: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class StockRequest(Base):
    """A bulk stock update already applied, kept by its idempotency key to answer repeats."""

    __tablename__ = "commerce_stock_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Cart(Base):
    """A person's cart, shared by every channel; a visitor's until the person is known."""

    __tablename__ = "commerce_carts"
    __table_args__ = (
        # One active cart per person and per anonymous visitor.
        Index(
            "uq_commerce_carts_active_profile",
            "profile_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "uq_commerce_carts_active_visitor",
            "visitor",
            unique=True,
            sqlite_where=text("status = 'active' AND profile_id IS NULL"),
            postgresql_where=text("status = 'active' AND profile_id IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # Before the person has a profile: the identifier the cart was opened with, as
    # "anonymous_id:<value>" or "user_id:<value>"; the pipeline gives the cart its profile.
    visitor: Mapped[str | None] = mapped_column(String(300), default=None)
    # active, merged (into merged_into), ordered
    status: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(20))
    # The branch the shopper is in, or the pickup branch chosen: holds are taken there.
    location_id: Mapped[str | None] = mapped_column(String(64), default=None)
    merged_into: Mapped[str | None] = mapped_column(String(40), default=None)
    order_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CartItem(Base):
    """One SKU in a cart, with the price and channel it was added at."""

    __tablename__ = "commerce_cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    cart_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_satang: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Order(Base):
    """An order from any channel, with its fulfilment and the routing decision explained."""

    __tablename__ = "commerce_orders"
    __table_args__ = (
        Index("ix_commerce_orders_profile", "profile_id", "created_at"),
        Index("ix_commerce_orders_visitor", "visitor"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The checkout's idempotency key: repeating a checkout returns the same order, and the
    # fingerprint of the request refuses the key's reuse for a different one.
    request_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    profile_id: Mapped[str | None] = mapped_column(String(40), default=None)
    visitor: Mapped[str | None] = mapped_column(String(300), default=None)
    cart_id: Mapped[str | None] = mapped_column(String(40), default=None)
    channel: Mapped[str] = mapped_column(String(20))
    # placed, ready_for_pickup, partially_shipped, shipped, delivered, collected, cancelled
    status: Mapped[str] = mapped_column(String(20))
    # pending, authorized, paid, refunded, partially_refunded, failed
    payment_status: Mapped[str] = mapped_column(String(20))
    payment: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # delivery, click_collect, in_store
    method: Mapped[str] = mapped_column(String(20))
    pickup_location_id: Mapped[str | None] = mapped_column(String(64), default=None)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, default=None)
    pickup_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    pickup_failures: Mapped[int] = mapped_column(Integer, default=0)
    routing: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    total_satang: Mapped[int] = mapped_column(BigInteger)
    # An exchange's order points at the order it replaces items of.
    exchange_of: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderLine(Base):
    """Units of one SKU of an order from one location (or back-ordered, with no location)."""

    __tablename__ = "commerce_order_lines"
    __table_args__ = (CheckConstraint("returned <= quantity", name="returned_at_most_quantity"),)

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_satang: Mapped[int] = mapped_column(BigInteger)
    location_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # allocated, backordered, shipped, delivered, collected, cancelled
    status: Mapped[str] = mapped_column(String(12))
    expected_on: Mapped[date | None] = mapped_column(Date, default=None)
    shipment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    returned: Mapped[int] = mapped_column(Integer, default=0)


class OrderEvent(Base):
    """The order's timeline: every status change, with who or what caused it."""

    __tablename__ = "commerce_order_events"
    __table_args__ = (Index("ix_commerce_order_events_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Shipment(Base):
    """Part of an order on its way from one location with a carrier."""

    __tablename__ = "commerce_shipments"
    __table_args__ = (Index("ix_commerce_shipments_tracking", "carrier", "tracking_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    from_location_id: Mapped[str] = mapped_column(String(64))
    # A branch id when the parcel goes to the pickup branch; None for the customer.
    to_location_id: Mapped[str | None] = mapped_column(String(64), default=None)
    carrier: Mapped[str] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(120), default=None)
    tracking_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # shipped, in_transit, out_for_delivery, delivered, failed, returned
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Return(Base):
    """Items brought back against an order, restocked at one location; maybe exchanged."""

    __tablename__ = "commerce_returns"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    location_id: Mapped[str] = mapped_column(String(64))
    # [{"sku": ..., "quantity": ..., "amount_satang": ...}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    reason: Mapped[str] = mapped_column(Text, default="")
    refund_satang: Mapped[int] = mapped_column(BigInteger)
    exchange_order_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockAlert(Base):
    """A person asking to be told when a SKU is back (anywhere, or at one branch)."""

    __tablename__ = "commerce_stock_alerts"
    __table_args__ = (Index("ix_commerce_stock_alerts_sku", "sku", "notified_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(40), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
