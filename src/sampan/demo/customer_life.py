"""One demo customer's year of sessions on web, app, POS and LINE: when, and what they do."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sampan.demo.catalog import (
    ACCOUNT_PAGE,
    BRANCHES,
    CART_PAGE,
    CATEGORIES,
    CHECKOUT_PAGE,
    LINE_OA_ID,
    PRODUCTS,
    WEB_PAGES,
    Branch,
    Product,
    products_in,
)
from sampan.demo.messages import CAMPAIGNS, CustomerMessages, DemoEvent
from sampan.demo.people import Channel, Customer

# Thailand keeps UTC+07:00 all year (no daylight saving), so a fixed offset is exact.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")


_HOURS = range(24)
_ONLINE_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 7, 10, 9, 6, 6, 6, 7, 9, 11, 13, 14, 12, 6)
_MALL_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 8, 8, 6, 6, 7, 8, 10, 10, 6, 2, 0, 0)
_PAYMENT_METHODS = ("credit_card", "promptpay", "cash", "true_money", "debit_card")
_RICH_MENU_ITEMS = ("เช็คคะแนนสะสม", "โปรโมชั่นเดือนนี้", "ค้นหาสาขา", "ติดต่อแอดมิน", "บัตรสมาชิก")


def _day_weight(day: date) -> float:
    # Double-day sales (9.9, 11.11, 12.12) and payday at month end drive Thai online shopping.
    if day.day == day.month:
        return 3.0
    if day.day >= 25 or day.day == 1:
        return 1.6
    return 1.0


class _Clock:
    """Advance through one session a few seconds to a minute or two per message."""

    def __init__(self, at: datetime, rng: random.Random) -> None:
        self.at = at
        self._rng = rng

    def tick(self) -> datetime:
        self.at += timedelta(
            seconds=self._rng.randint(6, 95), milliseconds=self._rng.randrange(1000)
        )
        return self.at


class CustomerLife:
    """Play one customer's year: sessions on their channels, each a short run of messages."""

    def __init__(
        self, customer: Customer, rng: random.Random, order_numbers: Iterator[int]
    ) -> None:
        self.customer = customer
        self.rng = rng
        self.order_numbers = order_numbers
        # Built first: it draws the phone form before favourites are drawn.
        self.messages = CustomerMessages(customer, rng)
        self.line_followed = False
        self.seen_at_branch = False
        self.change_at: datetime | None = None
        self.favourites = rng.sample([category.slug for category in CATEGORIES], 2)

    def live(self, start: datetime, end: datetime) -> list[tuple[datetime, DemoEvent]]:
        """Return this customer's timed events between `start` and `end`."""
        sessions = self._plan_sessions(start, end)
        if self.customer.new_email or self.customer.new_city:
            first, last = sessions[0][0], sessions[-1][0]
            self.change_at = first + (last - first) * self.rng.uniform(0.4, 0.8)
        last_line = max((at for at, channel, _ in sessions if channel == "line"), default=None)
        for at, channel, anonymous in sessions:
            clock = _Clock(at, self.rng)
            if channel in ("web", "app"):
                self._shop_online(clock, channel, anonymous=anonymous)
            elif channel == "pos":
                self._visit_branch(clock)
            else:
                self._use_line(clock, last=at == last_line)
        return [(at, event) for at, event in self.messages.events if start <= at <= end]

    # -- planning -----------------------------------------------------------------------------

    def _plan_sessions(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, Channel, bool]]:
        """Return (start time, channel, anonymous) of every session, in time order."""
        rng, customer = self.rng, self.customer
        latest = end - timedelta(hours=3)
        # People join all year round, more of them early on so the year has repeat buyers.
        joined = start + timedelta(days=3) + (latest - start) * (rng.random() ** 1.5) * 0.9
        # A third lapse well before the end, so 30/60/90-day inactivity segments are not empty.
        last = latest if rng.random() < 0.65 else joined + (latest - joined) * rng.uniform(0.3, 0.9)
        count = max(len(customer.channels), 1 + round(rng.expovariate(1 / 3.4)))
        weights = [3 if index == 0 else 1 for index in range(len(customer.channels))]
        channels = list(customer.channels) + rng.choices(
            customer.channels, weights, k=count - len(customer.channels)
        )
        plan = sorted((self._moment(joined, last, channel), channel, False) for channel in channels)
        if customer.browses_anonymously_first:
            plan = self._browse_before_signing_in(plan, start, last)
        return plan

    def _browse_before_signing_in(
        self, plan: list[tuple[datetime, Channel, bool]], start: datetime, last: datetime
    ) -> list[tuple[datetime, Channel, bool]]:
        """Move the first web/app session to the front and precede it by anonymous visits."""
        online = [channel for channel in self.customer.channels if channel in ("web", "app")]
        device: Channel = self.rng.choice(online)
        index = next(i for i, (_, channel, _) in enumerate(plan) if channel == device)
        sign_in = plan[index][0]
        # Sessions on other channels before the sign-in would identify the person early.
        later = [
            (self._moment(sign_in + timedelta(hours=1), last, channel), channel, False)
            for _, channel, _ in plan[:index]
        ]
        visits = self.rng.choice((1, 1, 2, 3))
        lead = min(timedelta(days=self.rng.uniform(1, 21)), (sign_in - start) * 0.9)
        hour = timedelta(hours=1)
        # Visit k falls in its own slice of the lead time, an hour clear of the next slice.
        anonymous = [
            (
                self._moment(
                    sign_in - lead * k / visits, sign_in - lead * (k - 1) / visits - hour, device
                ),
                device,
                True,
            )
            for k in range(visits, 0, -1)
        ]
        return anonymous + sorted([(sign_in, device, False), *later, *plan[index + 1 :]])

    def _moment(self, low: datetime, high: datetime, channel: Channel) -> datetime:
        """Pick a session start between `low` and `high` at an hour that suits the channel."""
        if high <= low:
            return low
        hour_weights = _MALL_HOUR_WEIGHTS if channel == "pos" else _ONLINE_HOUR_WEIGHTS
        span = (high.date() - low.date()).days
        for _ in range(50):
            day = low.date() + timedelta(days=self.rng.randint(0, span))
            if self.rng.random() * 3.0 > _day_weight(day):
                continue
            hour = self.rng.choices(_HOURS, hour_weights)[0]
            moment = datetime.combine(
                day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), tzinfo=BANGKOK
            )
            if low <= moment <= high:
                return moment
        return low + (high - low) * self.rng.random()

    # -- sessions -----------------------------------------------------------------------------

    def _shop_online(self, clock: _Clock, channel: Channel, *, anonymous: bool) -> None:
        rng = self.rng
        changed = not anonymous and self._change_due(clock.at)
        # Members sign in on a new device, and now and then again (a new login, a profile edit).
        if not anonymous and (
            changed or channel not in self.messages.signed_in or rng.random() < 0.2
        ):
            self.messages.sign_in(clock.tick(), channel)
            self.messages.answer_consent_form(clock.tick(), channel)
        landing = rng.choices(WEB_PAGES, (10, 5, 3, 3, 1, 1, 1, 1))[0]
        self.messages.view_page(clock.tick(), channel, landing, campaign=True)
        viewed = self._browse(clock, channel, rng.choice((1, 1, 2, 2, 3, 4)))
        if rng.random() < (0.3 if anonymous else 0.45):
            cart = self._fill_cart(clock, channel, viewed)
            if not anonymous and rng.random() < 0.6:
                self._check_out(clock, channel, cart)
        elif rng.random() < 0.1:
            self.messages.view_page(clock.tick(), channel, ACCOUNT_PAGE)

    def _browse(self, clock: _Clock, channel: Channel, count: int) -> list[Product]:
        viewed: list[Product] = []
        for _ in range(count):
            product = self._pick_product()
            self.messages.view_product(clock.tick(), channel, product)
            self.messages.track(
                clock.tick(), channel, "Product Viewed", self.messages.product(product)
            )
            viewed.append(product)
        return viewed

    def _fill_cart(
        self, clock: _Clock, channel: Channel, viewed: list[Product]
    ) -> list[tuple[Product, int]]:
        rng = self.rng
        picks = list(dict.fromkeys(rng.sample(viewed, rng.randint(1, len(viewed)))))
        cart = [(product, rng.choices((1, 2, 3), (80, 15, 5))[0]) for product in picks]
        messages = self.messages
        for product, quantity in cart:
            added = messages.product(product, quantity)
            messages.track(clock.tick(), channel, "Product Added", added)
        if len(cart) > 1 and rng.random() < 0.2:
            product, quantity = cart.pop(rng.randrange(len(cart)))
            removed = messages.product(product, quantity)
            messages.track(clock.tick(), channel, "Product Removed", removed)
        cart_id = messages.new_id()
        messages.view_page(clock.tick(), channel, CART_PAGE)
        messages.track(
            clock.tick(),
            channel,
            "Cart Viewed",
            {"cart_id": cart_id, "products": [messages.line_item(p, q) for p, q in cart]},
        )
        return cart

    def _check_out(self, clock: _Clock, channel: Channel, cart: list[tuple[Product, int]]) -> None:
        total = sum(product.price * quantity for product, quantity in cart)
        items = [self.messages.line_item(product, quantity) for product, quantity in cart]
        self.messages.view_page(clock.tick(), channel, CHECKOUT_PAGE)
        checkout_id = self.messages.new_id()
        started = {"checkout_id": checkout_id, "value": total, "currency": "THB", "products": items}
        self.messages.track(clock.tick(), channel, "Checkout Started", started)
        # Carts left at checkout feed the abandoned-cart journey.
        if self.rng.random() < 0.7:
            prefix = "W" if channel == "web" else "A"
            self._complete_order(
                clock.tick(), channel, f"{prefix}{next(self.order_numbers):08d}", cart
            )

    def _visit_branch(self, clock: _Clock) -> None:
        customer, rng = self.customer, self.rng
        branch = self._branch()
        changed = self._change_due(clock.at)
        if changed or not self.seen_at_branch:
            self.seen_at_branch = True
            self.messages.identify_at_branch(clock.tick())
            self.messages.answer_consent_form(clock.tick(), "pos")
        basket = dict.fromkeys(self._pick_product() for _ in range(rng.choice((1, 1, 2, 2, 3, 4))))
        cart = [(product, rng.choices((1, 2, 3), (75, 20, 5))[0]) for product in basket]
        order_id = f"{branch.store_id}-{next(self.order_numbers):08d}"
        extra = {"affiliation": branch.name, "store_id": branch.store_id}
        total = self._complete_order(clock.tick(), "pos", order_id, cart, extra)
        if customer.loyalty_id is not None:
            points = {
                "loyalty_id": customer.loyalty_id,
                "order_id": order_id,
                "points": total // 25,
            }
            self.messages.track(clock.tick(), "pos", "Loyalty Points Earned", points)

    def _use_line(self, clock: _Clock, *, last: bool) -> None:
        customer, rng, messages = self.customer, self.rng, self.messages
        linkable = customer.member_id is not None or customer.pos_customer_id is not None
        if not self.line_followed:
            self.line_followed = True
            via = rng.choice(("qr_code_in_store", "website_banner", "line_ads", "friend_share"))
            followed = {"oa_id": LINE_OA_ID, "via": via}
            messages.track(clock.tick(), "line", "LINE Followed", followed)
            # Following the official account is the opt-in to its messages.
            line_consent = {"purpose": "marketing", "channel": "line", "status": "granted"}
            messages.track(clock.tick(), "line", "Consent Updated", line_consent)
            if linkable and (last or rng.random() < 0.6):
                messages.link_line(clock.tick())
        elif linkable and not messages.line_linked:
            messages.link_line(clock.tick())
        activity = rng.choices(("message", "menu", "coupon", "shop"), (45, 25, 15, 15))[0]
        if activity == "message":
            campaign = rng.choice(CAMPAIGNS)["name"]
            clicked = {"oa_id": LINE_OA_ID, "campaign": campaign, "message_type": "broadcast"}
            messages.track(clock.tick(), "line", "LINE Message Clicked", clicked)
            messages.view_page(clock.tick(), "line", WEB_PAGES[1])
            self._browse(clock, "line", rng.choice((0, 1, 2)))
        elif activity == "menu":
            tapped = {"oa_id": LINE_OA_ID, "item": rng.choice(_RICH_MENU_ITEMS)}
            messages.track(clock.tick(), "line", "LINE Rich Menu Tapped", tapped)
        elif activity == "coupon":
            coupon = {
                "coupon_id": f"LINE{rng.randint(100, 999)}",
                "discount": rng.choice((50, 100)),
            }
            messages.track(clock.tick(), "line", "Coupon Claimed", coupon)
        else:
            viewed = self._browse(clock, "line", rng.choice((1, 2)))
            cart = [(product, 1) for product in dict.fromkeys(viewed)]
            if rng.random() < 0.5:
                self._complete_order(clock.tick(), "line", f"L{next(self.order_numbers):08d}", cart)
        if last and rng.random() < 0.05:
            messages.track(clock.tick(), "line", "LINE Unfollowed", {"oa_id": LINE_OA_ID})
            withdrawn = {"purpose": "marketing", "channel": "line", "status": "withdrawn"}
            messages.track(clock.tick(), "line", "Consent Updated", withdrawn)

    def _complete_order(
        self,
        at: datetime,
        channel: Channel,
        order_id: str,
        cart: list[tuple[Product, int]],
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        total = sum(product.price * quantity for product, quantity in cart)
        order = {
            "order_id": order_id,
            "total": total,
            "revenue": total,
            "currency": "THB",
            "payment_method": self.rng.choice(_PAYMENT_METHODS),
            "products": [self.messages.line_item(product, quantity) for product, quantity in cart],
            **(extra or {}),
        }
        self.messages.track(at, channel, "Order Completed", order)
        # A few orders come back: damaged in delivery, wrong shade, allergic reaction.
        if self.rng.random() < 0.04:
            refunded_at = at + timedelta(days=self.rng.uniform(2, 14))
            refund = {"order_id": order_id, "total": total, "currency": "THB"}
            self.messages.track(refunded_at, channel, "Order Refunded", refund)
        return total

    # -- small choices ------------------------------------------------------------------------

    def _change_due(self, at: datetime) -> bool:
        """Apply the customer's later e-mail or city once its time has come."""
        if self.change_at is None or at < self.change_at:
            return False
        self.change_at = None
        self.messages.take_new_details()
        return True

    def _pick_product(self) -> Product:
        if self.rng.random() < 0.7:
            return self.rng.choice(products_in(self.rng.choice(self.favourites)))
        return self.rng.choice(PRODUCTS)

    def _branch(self) -> Branch:
        if self.rng.random() < 0.8:
            return next(b for b in BRANCHES if b.store_id == self.customer.home_store_id)
        return self.rng.choice(BRANCHES)
