"""One demo customer's year of sessions on web, app, POS and LINE, as Segment messages."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
    SITE_URL,
    WEB_PAGES,
    Branch,
    Product,
    WebPage,
    products_in,
)
from sampan.demo.people import (
    PHONE_FORMS,
    Channel,
    Customer,
    mobile_user_agent,
    write_phone,
)

# Thailand keeps UTC+07:00 all year (no daylight saving), so a fixed offset is exact.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")


_HOURS = range(24)
_ONLINE_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 7, 10, 9, 6, 6, 6, 7, 9, 11, 13, 14, 12, 6)
_MALL_HOUR_WEIGHTS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 8, 8, 6, 6, 7, 8, 10, 10, 6, 2, 0, 0)
_PAYMENT_METHODS = ("credit_card", "promptpay", "cash", "true_money", "debit_card")
_CAMPAIGNS = (
    {"source": "facebook", "medium": "paid_social", "name": "payday-sale"},
    {"source": "google", "medium": "cpc", "name": "brand-search"},
    {"source": "line", "medium": "broadcast", "name": "member-monthly"},
    {"source": "tiktok", "medium": "paid_social", "name": "double-day-sale"},
)
_RICH_MENU_ITEMS = ("เช็คคะแนนสะสม", "โปรโมชั่นเดือนนี้", "ค้นหาสาขา", "ติดต่อแอดมิน", "บัตรสมาชิก")
_LIBRARIES: dict[Channel, dict[str, str]] = {
    "web": {"name": "analytics.js", "version": "next-1.72.0"},
    "app": {"name": "analytics-react-native", "version": "2.20.3"},
    "pos": {"name": "sampan-pos", "version": "1.8.2"},
    "line": {"name": "sampan-line-bridge", "version": "1.3.0"},
}


@dataclass(frozen=True)
class DemoEvent:
    """Carry one Segment message and the source (channel) whose write key sends it."""

    source: Channel
    payload: dict[str, Any]


def _day_weight(day: date) -> float:
    # Double-day sales (9.9, 11.11, 12.12) and payday at month end drive Thai online shopping.
    if day.day == day.month:
        return 3.0
    if day.day >= 25 or day.day == 1:
        return 1.6
    return 1.0


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


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
        self.events: list[tuple[datetime, DemoEvent]] = []
        self.phone_form = rng.randrange(len(PHONE_FORMS))
        self.signed_in: set[Channel] = set()
        self.identified = False
        self.line_followed = False
        self.line_linked = False
        self.seen_at_branch = False
        self.email = customer.email
        self.city = customer.city
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
        return [(at, event) for at, event in self.events if start <= at <= end]

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
        if not anonymous and (changed or channel not in self.signed_in or rng.random() < 0.2):
            self.signed_in.add(channel)
            self._identify(clock.tick(), channel)
        landing = rng.choices(WEB_PAGES, (10, 5, 3, 3, 1, 1, 1, 1))[0]
        self._view(clock.tick(), channel, landing.path, self._title(landing), campaign=True)
        viewed = self._browse(clock, channel, rng.choice((1, 1, 2, 2, 3, 4)))
        if rng.random() < (0.3 if anonymous else 0.45):
            cart = self._fill_cart(clock, channel, viewed)
            if not anonymous and rng.random() < 0.6:
                self._check_out(clock, channel, cart)
        elif rng.random() < 0.1:
            self._view(clock.tick(), channel, ACCOUNT_PAGE.path, self._title(ACCOUNT_PAGE))

    def _browse(self, clock: _Clock, channel: Channel, count: int) -> list[Product]:
        viewed: list[Product] = []
        for _ in range(count):
            product = self._pick_product()
            title = self._product_name(product)
            self._view(clock.tick(), channel, f"/products/{product.sku.lower()}", title)
            self._track(clock.tick(), channel, "Product Viewed", self._product(product))
            viewed.append(product)
        return viewed

    def _fill_cart(
        self, clock: _Clock, channel: Channel, viewed: list[Product]
    ) -> list[tuple[Product, int]]:
        rng = self.rng
        picks = list(dict.fromkeys(rng.sample(viewed, rng.randint(1, len(viewed)))))
        cart = [(product, rng.choices((1, 2, 3), (80, 15, 5))[0]) for product in picks]
        for product, quantity in cart:
            self._track(clock.tick(), channel, "Product Added", self._product(product, quantity))
        if len(cart) > 1 and rng.random() < 0.2:
            product, quantity = cart.pop(rng.randrange(len(cart)))
            self._track(clock.tick(), channel, "Product Removed", self._product(product, quantity))
        cart_id = self._uuid()
        self._view(clock.tick(), channel, CART_PAGE.path, self._title(CART_PAGE))
        self._track(
            clock.tick(),
            channel,
            "Cart Viewed",
            {"cart_id": cart_id, "products": [self._line_item(p, q) for p, q in cart]},
        )
        return cart

    def _check_out(self, clock: _Clock, channel: Channel, cart: list[tuple[Product, int]]) -> None:
        total = sum(product.price * quantity for product, quantity in cart)
        items = [self._line_item(product, quantity) for product, quantity in cart]
        self._view(clock.tick(), channel, CHECKOUT_PAGE.path, self._title(CHECKOUT_PAGE))
        checkout_id = self._uuid()
        started = {"checkout_id": checkout_id, "value": total, "currency": "THB", "products": items}
        self._track(clock.tick(), channel, "Checkout Started", started)
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
            at = clock.tick()
            self._emit(at, "pos", "identify", traits=self._base_traits(at) | self._pos_traits())
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
            self._track(clock.tick(), "pos", "Loyalty Points Earned", points)

    def _use_line(self, clock: _Clock, *, last: bool) -> None:
        customer, rng = self.customer, self.rng
        linkable = customer.member_id is not None or customer.pos_customer_id is not None
        if not self.line_followed:
            self.line_followed = True
            via = rng.choice(("qr_code_in_store", "website_banner", "line_ads", "friend_share"))
            self._track(clock.tick(), "line", "LINE Followed", {"oa_id": LINE_OA_ID, "via": via})
            if linkable and (last or rng.random() < 0.6):
                self._link_line(clock.tick())
        elif linkable and not self.line_linked:
            self._link_line(clock.tick())
        activity = rng.choices(("message", "menu", "coupon", "shop"), (45, 25, 15, 15))[0]
        if activity == "message":
            campaign = rng.choice(_CAMPAIGNS)["name"]
            clicked = {"oa_id": LINE_OA_ID, "campaign": campaign, "message_type": "broadcast"}
            self._track(clock.tick(), "line", "LINE Message Clicked", clicked)
            promotions = WEB_PAGES[1]
            self._view(clock.tick(), "line", promotions.path, self._title(promotions))
            self._browse(clock, "line", rng.choice((0, 1, 2)))
        elif activity == "menu":
            tapped = {"oa_id": LINE_OA_ID, "item": rng.choice(_RICH_MENU_ITEMS)}
            self._track(clock.tick(), "line", "LINE Rich Menu Tapped", tapped)
        elif activity == "coupon":
            coupon = {
                "coupon_id": f"LINE{rng.randint(100, 999)}",
                "discount": rng.choice((50, 100)),
            }
            self._track(clock.tick(), "line", "Coupon Claimed", coupon)
        else:
            viewed = self._browse(clock, "line", rng.choice((1, 2)))
            cart = [(product, 1) for product in dict.fromkeys(viewed)]
            if rng.random() < 0.5:
                self._complete_order(clock.tick(), "line", f"L{next(self.order_numbers):08d}", cart)
        if last and rng.random() < 0.05:
            self._track(clock.tick(), "line", "LINE Unfollowed", {"oa_id": LINE_OA_ID})

    def _link_line(self, at: datetime) -> None:
        """Tie the LINE user id to the member, or to the phone number of a branch customer."""
        self.line_linked = True
        traits: dict[str, Any] = {"line_user_id": self.customer.line_user_id}
        if self.customer.member_id is None:
            traits["phone"] = self._phone()
        self._emit(at, "line", "identify", traits=traits)

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
            "products": [self._line_item(product, quantity) for product, quantity in cart],
            **(extra or {}),
        }
        self._track(at, channel, "Order Completed", order)
        # A few orders come back: damaged in delivery, wrong shade, allergic reaction.
        if self.rng.random() < 0.04:
            refunded_at = at + timedelta(days=self.rng.uniform(2, 14))
            refund = {"order_id": order_id, "total": total, "currency": "THB"}
            self._track(refunded_at, channel, "Order Refunded", refund)
        return total

    # -- messages -----------------------------------------------------------------------------

    def _identify(self, at: datetime, channel: Channel) -> None:
        traits = self._base_traits(at) | {"email": self.email, "phone": self._phone()}
        if self.customer.loyalty_id is not None:
            traits["loyalty_id"] = self.customer.loyalty_id
        self._emit(at, channel, "identify", traits=traits)

    def _base_traits(self, at: datetime) -> dict[str, Any]:
        customer = self.customer
        traits: dict[str, Any] = {
            "firstName": customer.first_name,
            "lastName": customer.last_name,
            "name": f"{customer.first_name} {customer.last_name}",
            "gender": customer.gender,
            "birthday": customer.birthday.isoformat(),
            "address": {"city": self.city, "country": "TH"},
            "skin_type": customer.skin_type,
        }
        if not self.identified:
            self.identified = True
            traits["createdAt"] = _timestamp(at)
        return traits

    def _pos_traits(self) -> dict[str, Any]:
        customer = self.customer
        traits: dict[str, Any] = {
            "phone": self._phone(),
            "pos_customer_id": customer.pos_customer_id,
        }
        if customer.loyalty_id is not None:
            traits["loyalty_id"] = customer.loyalty_id
        return traits

    def _track(
        self, at: datetime, channel: Channel, event: str, properties: Mapping[str, Any]
    ) -> None:
        self._emit(at, channel, "track", event=event, properties=dict(properties))

    def _view(
        self, at: datetime, channel: Channel, path: str, title: str, *, campaign: bool = False
    ) -> None:
        if channel == "app":
            screen = (
                "Product Detail" if path.startswith("/products/") else path.strip("/") or "Home"
            )
            self._emit(at, channel, "screen", name=screen.replace("-", " ").title(), properties={})
            return
        english = self.customer.locale == "en-US"
        base = f"https://liff.line.me/{LINE_OA_ID[1:]}" if channel == "line" else SITE_URL
        url = f"{base}{'/en' if english else ''}{path}"
        page = {"path": path, "url": url, "title": title, "referrer": "", "search": ""}
        context: dict[str, Any] = {"page": page}
        if campaign and self.rng.random() < 0.25:
            utm = self.rng.choice(_CAMPAIGNS)
            context["campaign"] = dict(utm)
            page["search"] = f"?utm_source={utm['source']}&utm_campaign={utm['name']}"
            page["referrer"] = f"https://{utm['source']}.com/"
        self._emit(at, channel, "page", name=title, properties=dict(page), context=context)

    def _emit(
        self,
        at: datetime,
        channel: Channel,
        kind: str,
        *,
        context: Mapping[str, Any] | None = None,
        **body: Any,
    ) -> None:
        payload: dict[str, Any] = {"type": kind, "messageId": self._uuid(), **self._ids(channel)}
        payload["timestamp"] = _timestamp(at)
        payload["context"] = self._context(channel) | dict(context or {})
        payload.update(body)
        self.events.append((at, DemoEvent(channel, payload)))

    def _ids(self, channel: Channel) -> dict[str, str]:
        customer = self.customer
        ids: dict[str, str] = {}
        if customer.member_id is not None and (
            (channel in ("web", "app") and channel in self.signed_in)
            or (channel == "line" and self.line_linked)
            or channel == "pos"
        ):
            ids["userId"] = customer.member_id
        if channel == "web":
            ids["anonymousId"] = customer.web_anonymous_id
        elif channel == "app":
            ids["anonymousId"] = customer.app_anonymous_id
        elif channel == "line" and customer.line_user_id is not None:
            ids["anonymousId"] = customer.line_user_id
        elif channel == "pos" and "userId" not in ids and customer.pos_customer_id is not None:
            # The POS has no browser id; its own customer code is the stable anonymous handle.
            ids["anonymousId"] = customer.pos_customer_id
        return ids

    def _context(self, channel: Channel) -> dict[str, Any]:
        customer = self.customer
        context: dict[str, Any] = {
            "channel": channel,
            "locale": customer.locale,
            "timezone": "Asia/Bangkok",
            "library": dict(_LIBRARIES[channel]),
        }
        if channel == "web":
            context["userAgent"] = customer.web_user_agent
            context["ip"] = customer.ip
        elif channel == "app":
            device = customer.device
            context["app"] = {"name": "Sampan Beauty", "version": "3.4.1", "build": "341"}
            context["device"] = {
                "id": customer.app_device_id,
                "manufacturer": device.manufacturer,
                "model": device.model,
                "type": device.kind,
            }
            context["os"] = {"name": "iOS" if device.kind == "ios" else "Android"}
            context["os"]["version"] = device.os_version
            context["ip"] = customer.ip
        elif channel == "line":
            context["userAgent"] = mobile_user_agent(customer.device, line_app=True)
            context["externalIds"] = [
                {
                    "id": customer.line_user_id,
                    "type": "line_user_id",
                    "collection": "users",
                    "encoding": "none",
                }
            ]
        else:
            context["traits"] = self._pos_traits()
        return context

    # -- small choices ------------------------------------------------------------------------

    def _change_due(self, at: datetime) -> bool:
        """Apply the customer's later e-mail or city once its time has come."""
        if self.change_at is None or at < self.change_at:
            return False
        self.change_at = None
        self.email = self.customer.new_email or self.email
        self.city = self.customer.new_city or self.city
        return True

    def _phone(self) -> str:
        # Rotate through the written forms so any number seen twice is seen in two forms.
        self.phone_form = (self.phone_form + self.rng.choice((1, 1, 2))) % len(PHONE_FORMS)
        return write_phone(self.customer.phone, PHONE_FORMS[self.phone_form])

    def _pick_product(self) -> Product:
        if self.rng.random() < 0.7:
            return self.rng.choice(products_in(self.rng.choice(self.favourites)))
        return self.rng.choice(PRODUCTS)

    def _branch(self) -> Branch:
        if self.rng.random() < 0.8:
            return next(b for b in BRANCHES if b.store_id == self.customer.home_store_id)
        return self.rng.choice(BRANCHES)

    def _product(self, product: Product, quantity: int = 1) -> dict[str, Any]:
        return self._line_item(product, quantity) | {
            "currency": "THB",
            "url": f"{SITE_URL}/products/{product.sku.lower()}",
        }

    def _line_item(self, product: Product, quantity: int) -> dict[str, Any]:
        return {
            "product_id": product.product_id,
            "sku": product.sku,
            "name": self._product_name(product),
            "category": product.category,
            "price": product.price,
            "quantity": quantity,
        }

    def _product_name(self, product: Product) -> str:
        return product.name_en if self.customer.locale == "en-US" else product.name_th

    def _title(self, page: WebPage) -> str:
        return page.title_en if self.customer.locale == "en-US" else page.title_th

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
