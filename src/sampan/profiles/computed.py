"""Fold events into a profile's traits and computed traits; merging two folds is exact.

Every figure is a sum, a count, a minimum, a maximum or a union keyed by order id or event
seq, and traits keep the value of the latest event timestamp, so the result depends
neither on arrival order nor on merges, and an order reported twice counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sampan.core.clock import from_ms

ORDER_EVENTS = frozenset({"Order Completed"})
# Segment's e-commerce spec: a refund without an amount, or a cancellation, is of the whole order.
REFUND_EVENTS = frozenset({"Order Refunded", "Order Cancelled"})
VIEW_EVENTS = frozenset({"Product Viewed", "Product Added", "Product Clicked"})


@dataclass
class ProfileState:
    """Everything a profile has learnt from its events."""

    traits: dict[str, Any] = field(default_factory=dict)
    # (event timestamp, event seq) of each trait's value: the seq breaks timestamp ties.
    trait_at: dict[str, list[int]] = field(default_factory=dict)
    first_seen_ms: int | None = None
    last_seen_ms: int | None = None
    event_count: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    # order key -> [amount in minor units, currency, timestamp ms, seq, {category: quantity}]
    orders: dict[str, list[Any]] = field(default_factory=dict)
    # event seq -> [order key, amount in minor units or None for the whole order, currency]
    refunds: dict[str, list[Any]] = field(default_factory=dict)
    viewed_categories: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the state as a JSON-ready dict."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileState:
        """Rebuild a state stored with ``to_json``."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def apply_event(
    state: ProfileState,
    *,
    message: Mapping[str, Any],
    seq: int,
    channel: str,
    timestamp_ms: int,
    default_currency: str,
) -> None:
    """Fold one event into the state."""
    state.event_count += 1
    state.first_seen_ms = _min(state.first_seen_ms, timestamp_ms)
    state.last_seen_ms = _max(state.last_seen_ms, timestamp_ms)
    state.channels[channel] = state.channels.get(channel, 0) + 1
    msg_type = message.get("type")
    if msg_type == "identify":
        traits = message.get("traits")
        if isinstance(traits, Mapping):
            _set_traits(state, traits, [timestamp_ms, seq])
        return
    if msg_type != "track":
        return
    event = message.get("event")
    props = message.get("properties")
    props = props if isinstance(props, Mapping) else {}
    if event in ORDER_EVENTS:
        key = _order_key(props, seq)
        bought: dict[str, int] = {}
        for category, quantity in _categories(props):
            _add(bought, category, quantity)
        entry = [
            order_amount_minor(props),
            _currency(props, default_currency),
            timestamp_ms,
            seq,
            bought,
        ]
        if key not in state.orders or entry[2:4] > state.orders[key][2:4]:
            state.orders[key] = entry
    elif event in REFUND_EVENTS:
        has_amount = any(_decimal(props.get(k)) is not None for k in ("total", "revenue", "value"))
        amount = order_amount_minor(props) if has_amount else None
        order_key = _order_key(props, seq)
        # A whole-order refund counts once per order, however many events report it.
        refund_key = str(seq) if amount is not None else f"all:{order_key}"
        state.refunds[refund_key] = [order_key, amount, _currency(props, default_currency)]
    elif event in VIEW_EVENTS:
        viewed = props.get("category")
        if isinstance(viewed, str) and viewed:
            _add(state.viewed_categories, viewed, 1)


def merge_states(survivor: ProfileState, merged: ProfileState) -> ProfileState:
    """Return the state of a profile holding both profiles' events."""
    result = ProfileState(
        traits=dict(survivor.traits),
        trait_at=dict(survivor.trait_at),
        first_seen_ms=_min(survivor.first_seen_ms, merged.first_seen_ms),
        last_seen_ms=_max(survivor.last_seen_ms, merged.last_seen_ms),
        event_count=survivor.event_count + merged.event_count,
        channels=_sum(survivor.channels, merged.channels),
        orders=_latest(survivor.orders, merged.orders),
        refunds={**survivor.refunds, **merged.refunds},
        viewed_categories=_sum(survivor.viewed_categories, merged.viewed_categories),
    )
    for key, value in merged.traits.items():
        if merged.trait_at[key] > result.trait_at.get(key, [-1, -1]):
            result.traits[key] = value
            result.trait_at[key] = merged.trait_at[key]
    return result


@dataclass(frozen=True)
class Spending:
    """What a profile spent: net of refunds, per currency, in minor units."""

    spent: dict[str, int]
    orders_in: dict[str, int]
    bought: dict[str, int]
    order_count: int
    total_minor: int
    last_order_ms: int | None


def spending(state: ProfileState, default_currency: str) -> Spending:
    """Return orders, spend net of refunds and categories bought."""
    spent: dict[str, int] = {}
    orders_in: dict[str, int] = {}
    bought: dict[str, int] = {}
    for amount, currency, _, _, categories in state.orders.values():
        _add(spent, currency, amount)
        _add(orders_in, currency, 1)
        for category, quantity in categories.items():
            _add(bought, category, quantity)
    for order_key, amount, currency in state.refunds.values():
        order = state.orders.get(order_key)
        if amount is None:
            amount, currency = (order[0], order[1]) if order else (0, currency)
        _add(spent, currency, -amount)
    return Spending(
        spent=spent,
        orders_in=orders_in,
        bought=bought,
        order_count=len(state.orders),
        total_minor=spent.get(default_currency, 0),
        last_order_ms=max((order[2] for order in state.orders.values()), default=None),
    )


def computed_traits(state: ProfileState, default_currency: str) -> dict[str, Any]:
    """Return the computed traits shown on the Customer 360."""
    figures = spending(state, default_currency)
    spent, bought = figures.spent, figures.bought
    total = figures.total_minor
    orders = figures.orders_in.get(default_currency, 0)
    favourite = _top(bought) or _top(state.viewed_categories)
    other = {cur: _major(amount) for cur, amount in spent.items() if cur != default_currency}
    last_order = figures.last_order_ms
    return {
        "first_seen": _iso(state.first_seen_ms),
        "last_seen": _iso(state.last_seen_ms),
        "event_count": state.event_count,
        "channels": sorted(state.channels),
        "preferred_channel": _top(state.channels),
        "order_count": len(state.orders),
        "total_spent": _major(total),
        "average_order_value": _major(round(total / orders)) if orders else 0.0,
        "currency": default_currency,
        "spent_other_currencies": other,
        "last_order_at": _iso(last_order),
        "favourite_category": favourite,
    }


def order_amount_minor(props: Mapping[str, Any]) -> int:
    """Return an order's amount in minor units (satang): total, else revenue, else products."""
    for key in ("total", "revenue", "value"):
        amount = _decimal(props.get(key))
        if amount is not None:
            return int((amount * 100).to_integral_value())
    total = Decimal(0)
    for product in _products(props):
        price = _decimal(product.get("price")) or Decimal(0)
        quantity = _decimal(product.get("quantity")) or Decimal(1)
        total += price * quantity
    return int((total * 100).to_integral_value())


def _order_key(props: Mapping[str, Any], seq: int) -> str:
    order_id = props.get("order_id", props.get("orderId"))
    if isinstance(order_id, str | int) and not isinstance(order_id, bool) and str(order_id):
        return f"id:{order_id}"
    return f"seq:{seq}"


def _latest(a: Mapping[str, list[Any]], b: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """Union orders by key; for an order reported in both, keep the latest report."""
    result = dict(a)
    for key, entry in b.items():
        if key not in result or entry[2:4] > result[key][2:4]:
            result[key] = entry
    return result


def _set_traits(state: ProfileState, traits: Mapping[str, Any], at: list[int]) -> None:
    for key, value in traits.items():
        # Latest by event timestamp wins, not latest to arrive.
        if at > state.trait_at.get(key, [-1, -1]):
            state.traits[key] = value
            state.trait_at[key] = at


def _categories(props: Mapping[str, Any]) -> list[tuple[str, int]]:
    found = []
    for product in _products(props):
        category = product.get("category")
        if isinstance(category, str) and category:
            quantity = product.get("quantity")
            found.append((category, quantity if isinstance(quantity, int) and quantity > 0 else 1))
    return found


def _products(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    products = props.get("products")
    if not isinstance(products, list):
        return []
    return [p for p in products if isinstance(p, Mapping)]


def _currency(props: Mapping[str, Any], default: str) -> str:
    currency = props.get("currency")
    return currency.upper() if isinstance(currency, str) and len(currency) == 3 else default


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _add(counter: dict[str, int], key: str, amount: int) -> None:
    counter[key] = counter.get(key, 0) + amount


def _sum(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    result = dict(a)
    for key, value in b.items():
        result[key] = result.get(key, 0) + value
    return result


def _top(counter: Mapping[str, int]) -> str | None:
    if not counter:
        return None
    return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _major(minor: int) -> float:
    return minor / 100


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return from_ms(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
