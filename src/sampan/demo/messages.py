"""The Segment messages one demo customer sends: ids, context, traits, products and pages."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sampan.demo.catalog import LINE_OA_ID, SITE_URL, Product, WebPage
from sampan.demo.people import PHONE_FORMS, Channel, Customer, mobile_user_agent, write_phone

# UTM campaigns that bring visitors to the site; LINE broadcasts reuse their names.
CAMPAIGNS = (
    {"source": "facebook", "medium": "paid_social", "name": "payday-sale"},
    {"source": "google", "medium": "cpc", "name": "brand-search"},
    {"source": "line", "medium": "broadcast", "name": "member-monthly"},
    {"source": "tiktok", "medium": "paid_social", "name": "double-day-sale"},
)
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


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


class CustomerMessages:
    """Write one customer's Segment messages as each channel would send them, and keep them."""

    def __init__(self, customer: Customer, rng: random.Random) -> None:
        self.customer = customer
        self.rng = rng
        self.events: list[tuple[datetime, DemoEvent]] = []
        self.phone_form = rng.randrange(len(PHONE_FORMS))
        # Which channels already know the member decides whether a message carries the userId.
        self.signed_in: set[Channel] = set()
        self.line_linked = False
        self.identified = False
        self.email = customer.email
        self.city = customer.city
        self.consented = False

    # -- identify -----------------------------------------------------------------------------

    def sign_in(self, at: datetime, channel: Channel) -> None:
        """Sign the member in on a web or app `channel` and send who they are."""
        self.signed_in.add(channel)
        traits = self._base_traits(at) | {"email": self.email, "phone": self._phone()}
        if self.customer.loyalty_id is not None:
            traits["loyalty_id"] = self.customer.loyalty_id
        self._emit(at, channel, "identify", traits=traits)

    def identify_at_branch(self, at: datetime) -> None:
        """Send who the customer is as a branch's POS records them."""
        self._emit(at, "pos", "identify", traits=self._base_traits(at) | self._pos_traits())

    def link_line(self, at: datetime) -> None:
        """Tie the LINE user id to the member, or to the phone number of a branch customer."""
        self.line_linked = True
        traits: dict[str, Any] = {"line_user_id": self.customer.line_user_id}
        if self.customer.member_id is None:
            traits["phone"] = self._phone()
        self._emit(at, "line", "identify", traits=traits)

    def answer_consent_form(self, at: datetime, channel: Channel) -> None:
        """Send the sign-up form's consent answers, once: each purpose, marketing per channel."""
        if self.consented:
            return
        self.consented = True
        rng = self.rng
        answers = [
            ("marketing", "email", 0.7),
            ("marketing", "sms", 0.55),
            ("personalisation", None, 0.6),
            ("analytics", None, 0.8),
        ]
        consents = [
            {
                "purpose": purpose,
                "status": "granted" if rng.random() < share else "withdrawn",
                "noticeVersion": "2025-01",
                "noticeLanguage": "en" if self._english else "th",
            }
            | ({"channel": channel_name} if channel_name else {})
            for purpose, channel_name, share in answers
        ]
        self.track(at, channel, "Consent Updated", {"consents": consents})

    def take_new_details(self) -> None:
        """Send the customer's later e-mail and city, where they have one, from now on."""
        self.email = self.customer.new_email or self.email
        self.city = self.customer.new_city or self.city

    # -- track, page and screen ---------------------------------------------------------------

    def track(
        self, at: datetime, channel: Channel, event: str, properties: Mapping[str, Any]
    ) -> None:
        """Send a track message of `event` with `properties`."""
        self._emit(at, channel, "track", event=event, properties=dict(properties))

    def view_page(
        self, at: datetime, channel: Channel, page: WebPage, *, campaign: bool = False
    ) -> None:
        """Send a view of a site page, now and then arriving from a campaign if `campaign`."""
        title = page.title_en if self._english else page.title_th
        self._view(at, channel, page.path, title, campaign=campaign)

    def view_product(self, at: datetime, channel: Channel, product: Product) -> None:
        """Send a view of the product's detail page."""
        self._view(at, channel, f"/products/{product.sku.lower()}", self._product_name(product))

    def product(self, product: Product, quantity: int = 1) -> dict[str, Any]:
        """Return the properties of a Product Viewed, Added or Removed message."""
        return self.line_item(product, quantity) | {
            "currency": "THB",
            "url": f"{SITE_URL}/products/{product.sku.lower()}",
        }

    def line_item(self, product: Product, quantity: int) -> dict[str, Any]:
        """Return one entry of a cart, checkout or order's `products` list."""
        return {
            "product_id": product.product_id,
            "sku": product.sku,
            "name": self._product_name(product),
            "category": product.category,
            "price": product.price,
            "quantity": quantity,
        }

    def new_id(self) -> str:
        """Return a version-4 UUID drawn from the customer's seeded generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- message parts ------------------------------------------------------------------------

    def _view(
        self, at: datetime, channel: Channel, path: str, title: str, *, campaign: bool = False
    ) -> None:
        if channel == "app":
            screen = (
                "Product Detail" if path.startswith("/products/") else path.strip("/") or "Home"
            )
            self._emit(at, channel, "screen", name=screen.replace("-", " ").title(), properties={})
            return
        base = f"https://liff.line.me/{LINE_OA_ID[1:]}" if channel == "line" else SITE_URL
        url = f"{base}{'/en' if self._english else ''}{path}"
        page = {"path": path, "url": url, "title": title, "referrer": "", "search": ""}
        context: dict[str, Any] = {"page": page}
        if campaign and self.rng.random() < 0.25:
            utm = self.rng.choice(CAMPAIGNS)
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
        payload: dict[str, Any] = {"type": kind, "messageId": self.new_id(), **self._ids(channel)}
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

    def _phone(self) -> str:
        # Rotate through the written forms so any number seen twice is seen in two forms.
        self.phone_form = (self.phone_form + self.rng.choice((1, 1, 2))) % len(PHONE_FORMS)
        return write_phone(self.customer.phone, PHONE_FORMS[self.phone_form])

    def _product_name(self, product: Product) -> str:
        return product.name_en if self._english else product.name_th

    @property
    def _english(self) -> bool:
        return self.customer.locale == "en-US"
