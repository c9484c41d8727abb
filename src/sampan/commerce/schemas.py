"""Shapes of the commerce API: catalogue, stock, carts, orders, shipments, returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sampan.core.clock import Clock
from sampan.identity.service import IdentityRules
from sampan.settings import CommerceSettings

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-/]*$")]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]
Units = Annotated[int, Field(gt=0, le=1_000_000)]
Attribute = str | int | float | bool
Channel = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[a-z][a-z_]*$")]
LocationKind = Literal["branch", "warehouse", "pickup_point"]
Fulfilment = Literal["delivery", "click_collect", "in_store"]
Method = Literal["delivery", "click_collect", "in_store"]
PaymentStatus = Literal["pending", "authorized", "paid", "failed", "refunded", "partially_refunded"]
ShipmentStatus = Literal[
    "shipped", "in_transit", "out_for_delivery", "delivered", "failed", "returned"
]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantIn(_In):
    """One SKU of a product."""

    sku: Code
    barcode: str | None = Field(default=None, min_length=1, max_length=64)
    price: Money
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    lead_time_days: int | None = Field(default=None, ge=0, le=365)
    active: bool = True


class ProductIn(_In):
    """A product with its variants; substitutes are other product ids."""

    id: Code
    name: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    category: str | None = Field(default=None, max_length=120)
    attributes: dict[str, Attribute] = Field(default_factory=dict)
    substitutes: list[Code] = Field(default_factory=list, max_length=20)
    variants: list[VariantIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _distinct(self) -> ProductIn:
        skus = [v.sku for v in self.variants]
        if len(set(skus)) != len(skus):
            raise ValueError("variants repeat a SKU")
        if self.id in self.substitutes:
            raise ValueError("a product cannot be its own substitute")
        return self


class VariantOut(BaseModel):
    """A SKU as sold."""

    sku: str
    barcode: str | None
    price: Decimal
    attributes: dict[str, Any]
    lead_time_days: int | None
    active: bool


class ProductOut(BaseModel):
    """A product and its variants."""

    id: str
    name: str
    name_en: str | None
    category: str | None
    attributes: dict[str, Any]
    substitutes: list[str]
    variants: list[VariantOut]


class LocationIn(_In):
    """A branch, warehouse or pickup point."""

    id: Code
    name: str = Field(min_length=1, max_length=300)
    kind: LocationKind
    address: str = Field(default="", max_length=2000)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: dict[str, tuple[str, str]] = Field(default_factory=dict)
    fulfilment: list[Fulfilment] = Field(default_factory=list)
    active: bool = True

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, hours: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        for day, (opens, closes) in hours.items():
            if day not in DAYS:
                raise ValueError(f"'{day}' is not a day: use {', '.join(DAYS)}")
            for value in (opens, closes):
                if not _HHMM.match(value):
                    raise ValueError(f"{day}: '{value}' is not a time like 10:00")
        return hours

    @model_validator(mode="after")
    def _coordinates(self) -> LocationIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.kind == "pickup_point" and "delivery" in self.fulfilment:
            raise ValueError("a pickup point holds no stock, so it cannot ship deliveries")
        return self


class LocationOut(BaseModel):
    """A location and what it offers."""

    id: str
    name: str
    kind: str
    address: str
    latitude: float | None
    longitude: float | None
    opening_hours: dict[str, Any]
    fulfilment: list[str]
    active: bool


class ImportOut(BaseModel):
    """What a CSV import did."""

    created: int
    updated: int


class StockLevel(BaseModel):
    """Units of one SKU at one location."""

    location_id: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    incoming: int
    # Units held beyond what is on hand, after a count found fewer than were held.
    shortfall: int


class Substitute(BaseModel):
    """Another product offered when a SKU is out of stock."""

    product_id: str
    sku: str
    name: str
    price: Decimal
    available: int


class Availability(BaseModel):
    """Where a SKU can be had now, and what could replace it."""

    sku: str
    product_id: str
    name: str
    available: int
    # At the location asked about, when one was.
    available_here: int | None
    locations: list[StockLevel]
    substitutes: list[Substitute]


class StockChange(_In):
    """One change from a till or ERP.

    ``count`` sets the units on hand to ``quantity`` (a stock take); the other kinds move
    ``quantity`` units: in for receipt and return, out for sale, either way for adjustment.
    """

    location_id: Code
    sku: Code
    kind: Literal["receipt", "sale", "return", "adjustment", "count"]
    quantity: int = Field(ge=-1_000_000, le=1_000_000)
    reference: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _sign(self) -> StockChange:
        if self.kind in ("receipt", "sale", "return") and self.quantity <= 0:
            raise ValueError(f"a {self.kind} moves a positive number of units")
        if self.kind == "count" and self.quantity < 0:
            raise ValueError("a count cannot be negative")
        if self.kind == "adjustment" and self.quantity == 0:
            raise ValueError("an adjustment of 0 units changes nothing")
        return self


class BulkStockIn(_In):
    """Changes applied together, all or none."""

    changes: list[StockChange] = Field(min_length=1, max_length=5_000)


class BulkStockOut(BaseModel):
    """The stock after a bulk update; ``replayed`` when the key had been used already."""

    applied: int
    levels: list[StockLevel]
    replayed: bool = False


class Line(_In):
    """Units of one SKU."""

    sku: Code
    quantity: Units


class TransferIn(_In):
    """Send units from one location to another."""

    from_location_id: Code
    to_location_id: Code
    lines: list[Line] = Field(min_length=1, max_length=500)
    reference: str | None = Field(default=None, max_length=120)

    @model_validator(mode="after")
    def _different(self) -> TransferIn:
        if self.from_location_id == self.to_location_id:
            raise ValueError("a transfer goes between two different locations")
        return self


class TransferOut(BaseModel):
    """A transfer and where it is."""

    id: str
    from_location_id: str
    to_location_id: str
    status: str
    lines: list[dict[str, Any]]
    reference: str | None
    created_at: datetime
    received_at: datetime | None


class MovementOut(BaseModel):
    """One line of the stock ledger."""

    id: int
    location_id: str
    sku: str
    kind: str
    quantity: int
    on_hand_after: int
    reference: str | None
    note: str | None
    at: datetime


class CustomerRef(_In):
    """Who the customer is, by any identifier they have; at least one is needed."""

    profile_id: str | None = Field(default=None, max_length=40)
    user_id: str | None = Field(default=None, max_length=200)
    anonymous_id: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    line_user_id: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _some(self) -> CustomerRef:
        if not any(self.model_dump().values()):
            raise ValueError(
                "name the customer: profile_id, user_id, anonymous_id, email, phone or line_user_id"
            )
        return self


class CartOpen(_In):
    """Open (or find) the customer's active cart."""

    customer: CustomerRef
    channel: Channel
    location_id: Code | None = None


class CartItemSet(_In):
    """Set how many units of a SKU the cart holds (0 removes it)."""

    quantity: int = Field(ge=0, le=999)
    channel: Channel


class CartItemOut(BaseModel):
    """One SKU in a cart."""

    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    channel: str
    held: int
    # Units available now across locations; 0 means out of stock (see the substitutes).
    available: int


class CartOut(BaseModel):
    """A cart, the same on every channel."""

    id: str
    profile_id: str | None
    visitor: str | None
    status: str
    channel: str
    location_id: str | None
    merged_into: str | None
    order_id: str | None
    items: list[CartItemOut]
    total: Decimal
    currency: str
    holds_expire_at: datetime | None
    updated_at: datetime


class AddressIn(_In):
    """Where a delivery goes; coordinates let routing pick the nearest location."""

    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=500)
    district: str | None = Field(default=None, max_length=200)
    province: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, pattern=r"^\d{5}$")
    phone: str | None = Field(default=None, max_length=40)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class PaymentIn(_In):
    """What the payment provider said; Sampan records it and takes no money itself."""

    status: PaymentStatus = "pending"
    method: str | None = Field(default=None, max_length=60)
    reference: str | None = Field(default=None, max_length=200)


class CheckoutIn(_In):
    """Turn the cart into an order."""

    channel: Channel
    method: Method
    location_id: Code | None = None
    address: AddressIn | None = None
    payment: PaymentIn = Field(default_factory=PaymentIn)

    @model_validator(mode="after")
    def _fulfilment(self) -> CheckoutIn:
        if self.method == "delivery" and self.address is None:
            raise ValueError("a delivery needs an address")
        if self.method == "delivery" and self.location_id is not None:
            raise ValueError(
                "a delivery goes to the address and the routing rule picks the location; "
                "location_id is for click_collect and in_store"
            )
        if self.method in ("click_collect", "in_store") and self.location_id is None:
            raise ValueError(f"{self.method} needs location_id: the branch")
        return self


class OrderLineOut(BaseModel):
    """Units of an order from one location, or back-ordered."""

    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    location_id: str | None
    status: str
    expected_on: date | None
    shipment_id: str | None
    returned: int


class OrderEventOut(BaseModel):
    """One step of the order's timeline."""

    status: str
    detail: dict[str, Any]
    at: datetime


class ShipmentOut(BaseModel):
    """A parcel of the order."""

    id: str
    order_id: str
    from_location_id: str
    to_location_id: str | None
    carrier: str
    tracking_number: str | None
    tracking_url: str | None
    status: str
    created_at: datetime
    updated_at: datetime


class ReturnOut(BaseModel):
    """Items returned against an order."""

    id: str
    order_id: str
    location_id: str
    lines: list[dict[str, Any]]
    reason: str
    refund: Decimal
    exchange_order_id: str | None
    created_at: datetime


class OrderOut(BaseModel):
    """An order with its lines, routing, timeline, shipments and returns."""

    id: str
    profile_id: str | None
    channel: str
    status: str
    payment_status: str
    payment: dict[str, Any]
    method: str
    pickup_location_id: str | None
    address: dict[str, Any] | None
    total: Decimal
    currency: str
    exchange_of: str | None
    routing: dict[str, Any]
    lines: list[OrderLineOut]
    timeline: list[OrderEventOut]
    shipments: list[ShipmentOut]
    returns: list[ReturnOut]
    created_at: datetime
    # Only in the answer that made the code ready: it is never stored in clear.
    pickup_code: str | None = None


class PickListLine(BaseModel):
    """What to take off the shelf at one location."""

    line_no: int
    sku: str
    barcode: str | None
    name: str
    quantity: int


class PickList(BaseModel):
    """Lines of an order one location must pick."""

    order_id: str
    location_id: str
    lines: list[PickListLine]


class PaymentUpdate(_In):
    """A payment status reported later by the provider."""

    status: PaymentStatus
    reference: str | None = Field(default=None, max_length=200)


class ShipmentIn(_In):
    """Parcel the order's lines held at one location."""

    location_id: Code
    carrier: str = Field(min_length=1, max_length=60)
    tracking_number: str | None = Field(default=None, max_length=120)
    tracking_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    line_nos: list[int] | None = Field(default=None, min_length=1)


class ShipmentUpdate(_In):
    """A carrier's status for a parcel."""

    status: ShipmentStatus
    note: str | None = Field(default=None, max_length=500)


class CarrierUpdate(_In):
    """What a carrier posts to the webhook, naming the parcel by its tracking number."""

    carrier: str = Field(min_length=1, max_length=60)
    tracking_number: str = Field(min_length=1, max_length=120)
    status: ShipmentStatus
    note: str | None = Field(default=None, max_length=500)


class CarrierAck(BaseModel):
    """What the carrier webhook answers: the parcel and its status, nothing of the order."""

    shipment_id: str
    status: str


class PickupIn(_In):
    """The code the customer shows at the counter."""

    code: str = Field(min_length=1, max_length=12)


class ReturnIn(_In):
    """Items brought back, where they go back on the shelf, and what is taken instead."""

    lines: list[Line] = Field(min_length=1, max_length=200)
    location_id: Code
    reason: str = Field(default="", max_length=1000)
    exchange: list[Line] = Field(default_factory=list, max_length=200)


class AlertIn(_In):
    """Ask to be told when a SKU is back in stock."""

    customer: CustomerRef
    sku: Code
    location_id: Code | None = None


class AlertOut(BaseModel):
    """A back-in-stock subscription."""

    id: str
    profile_id: str
    sku: str
    location_id: str | None
    created_at: datetime
    notified_at: datetime | None


class CounterView(BaseModel):
    """What store staff see when a customer walks up: who, their cart, their last orders."""

    profile_id: str
    display_name: str | None
    identifiers: list[dict[str, str]]
    cart: CartOut | None
    orders: list[OrderOut]


@dataclass(frozen=True)
class CommerceEnv:
    """What commerce needs from the running process: its settings, rules and clock."""

    settings: CommerceSettings
    identity: IdentityRules
    currency: str
    clock: Clock
