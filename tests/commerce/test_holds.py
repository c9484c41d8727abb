"""Holds taken at add-to-cart: they keep units for the cart, then lapse and free them."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import UTC, datetime, timedelta

from sampan.commerce import service as commerce
from tests.commerce.conftest import Shop


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _hold_at_cart(shop: Shop) -> Clock:
    clock = Clock()
    env = shop.ws.state.commerce_env
    settings = env.settings.model_copy(update={"reserve_at": "cart", "cart_hold_minutes": 30})
    shop.ws.state.commerce_env = dataclasses.replace(env, settings=settings, clock=clock)
    return clock


def test_cart_holds_keep_the_last_units_until_they_lapse(shop: Shop) -> None:
    clock = _hold_at_cart(shop)
    shop.stock(("BKK01", "SERUM-C", "receipt", 2))
    first = shop.cart({"anonymous_id": "first"}, location_id="BKK01")
    held = shop.put(first["id"], "SERUM-C", 2)
    assert held["items"][0]["held"] == 2
    assert held["holds_expire_at"].startswith("2026-11-24T03:30")
    assert shop.level("BKK01", "SERUM-C")["available"] == 0
    second = shop.cart({"anonymous_id": "second"}, location_id="BKK01")
    nothing = shop.put(second["id"], "SERUM-C", 1)
    assert nothing["items"][0]["held"] == 0
    clock.now += timedelta(minutes=31)
    # The second cart's change needs the units: the first cart's lapsed hold lets them go.
    taken = shop.put(second["id"], "SERUM-C", 1)
    assert taken["items"][0]["held"] == 1
    lapsed = shop.api("GET", f"/api/commerce/carts/{first['id']}").json()
    assert lapsed["items"][0]["held"] == 0
    assert shop.level("BKK01", "SERUM-C")["reserved"] == 1


def test_checkout_turns_the_carts_holds_into_the_orders(shop: Shop) -> None:
    _hold_at_cart(shop)
    shop.stock(("BKK01", "SERUM-C", "receipt", 1))
    cart = shop.cart({"anonymous_id": "buyer"}, location_id="BKK01")
    shop.put(cart["id"], "SERUM-C", 1)
    order = shop.checkout(cart["id"], method="click_collect", location_id="BKK01")
    assert order["lines"][0]["location_id"] == "BKK01"
    level = shop.level("BKK01", "SERUM-C")
    assert (level["on_hand"], level["reserved"]) == (1, 1)  # held once, not twice


def test_the_sweeper_frees_lapsed_holds(shop: Shop) -> None:
    clock = _hold_at_cart(shop)
    shop.stock(("BKK04", "SUN-50", "receipt", 3))
    cart = shop.cart({"anonymous_id": "browser"})
    shop.put(cart["id"], "SUN-50", 3)
    assert shop.level("BKK04", "SUN-50")["reserved"] == 3
    clock.now += timedelta(hours=1)
    with shop.ws.runtime.db.transaction() as session:
        assert commerce.expire_holds(session, shop.ws.state.commerce_env) == 3
    assert shop.level("BKK04", "SUN-50")["reserved"] == 0


def test_privacy_erasure_drops_carts_and_keeps_orders_without_the_person(shop: Shop) -> None:
    person = shop.identify("member-erase", email="erase@example.co.th")
    shop.stock(("BKK04", "SERUM-C", "receipt", 3))
    cart = shop.cart({"user_id": "member-erase"})
    shop.put(cart["id"], "SERUM-C", 1)
    order = shop.checkout(cart["id"], method="click_collect", location_id="BKK04")
    shop.cart({"user_id": "member-erase"})
    exported = shop.api("GET", f"/api/privacy/profiles/{person}/export").content
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        ours = [name for name in archive.namelist() if "commerce" in name]
        text = "".join(archive.read(name).decode() for name in ours)
    assert ours
    assert order["id"] in text
    shop.api("POST", f"/api/privacy/profiles/{person}/erase", json={"reason": "ขอลบข้อมูล"})
    kept = shop.api("GET", f"/api/commerce/orders/{order['id']}").json()
    assert kept["profile_id"] is None
    assert kept["total"] == "890.00"
    shop.api("GET", f"/api/commerce/carts/{cart['id']}", expect=404)
