"""Identifier types, their normalisation and the values that never identify anyone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

BUILTIN_TYPES = (
    "user_id",
    "email",
    "phone",
    "line_user_id",
    "facebook_psid",
    "loyalty_id",
    "pos_customer_id",
    "device_id",
    "anonymous_id",
)
# Segment Unify's defaults: one user id per profile, five of anything else.
DEFAULT_LIMITS = {"user_id": 1}
DEFAULT_LIMIT = 5
# Placeholder values SDKs and forms send when they know nothing; linking on them would
# merge strangers into one giant profile.
DEFAULT_BLOCKED = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "undefined",
        "anonymous",
        "unknown",
        "0",
        "-",
        "n/a",
        "na",
        "nan",
        "test",
        "[object object]",
    }
)
_TRAIT_ALIASES = {
    "lineUserId": "line_user_id",
    "facebookPsid": "facebook_psid",
    "loyaltyId": "loyalty_id",
    "posCustomerId": "pos_customer_id",
    "deviceId": "device_id",
    "phone_number": "phone",
    "phoneNumber": "phone",
    "mobile": "phone",
}
_ZEROS = re.compile(r"^[+0\s\-().]*$")
_PLAIN_EMAIL = re.compile(
    r"^[a-z0-9](?:[a-z0-9_%+-]|\.(?!\.))*(?<!\.)"  # local part: no leading/trailing/double dot
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"  # host labels and a TLD
)


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A normalised identifier such as ``phone:+66812345678``."""

    type: str
    value: str

    @property
    def key(self) -> str:
        """Return the identifier as one string, ``type:value``."""
        return f"{self.type}:{self.value}"


@dataclass(frozen=True)
class IdentityRules:
    """Which identifier types exist, their priority, limits and blocked values."""

    priority: tuple[str, ...] = BUILTIN_TYPES
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    blocked: frozenset[str] = DEFAULT_BLOCKED
    phone_region: str = "TH"

    @classmethod
    def build(
        cls,
        *,
        custom_types: Iterable[str] = (),
        priority: Iterable[str] = (),
        limits: Mapping[str, int] | None = None,
        blocked: Iterable[str] = (),
        phone_region: str = "TH",
    ) -> IdentityRules:
        """Return rules with custom types added and priorities and limits overridden."""
        known = [*BUILTIN_TYPES, *(t for t in custom_types if t not in BUILTIN_TYPES)]
        ordered = [t for t in priority if t in known]
        ordered += [t for t in known if t not in ordered]
        return cls(
            priority=tuple(ordered),
            limits={**DEFAULT_LIMITS, **(limits or {})},
            blocked=DEFAULT_BLOCKED | {b.strip().lower() for b in blocked},
            phone_region=phone_region,
        )

    def limit(self, identifier_type: str) -> int:
        """Return how many identifiers of this type one profile may hold."""
        return self.limits.get(identifier_type, DEFAULT_LIMIT)

    def rank(self, identifier_type: str) -> int:
        """Return the priority rank of a type: lower wins conflicts."""
        return self.priority.index(identifier_type)


def normalise(identifier_type: str, raw: Any, rules: IdentityRules) -> Identifier | None:
    """Return the normalised identifier, or None when the value identifies nobody."""
    if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    return _normalise(identifier_type, str(raw), rules.blocked, rules.phone_region)


# Normalising e-mails and phones dominates resolution time, and values repeat a lot; the
# cache is bounded and evicts the least recently used values.
@lru_cache(maxsize=1_000_000)
def _normalise(
    identifier_type: str, raw: str, blocked: frozenset[str], phone_region: str
) -> Identifier | None:
    value = raw.strip()
    if value.lower() in blocked:
        return None
    if identifier_type == "email":
        email = normalise_email(value)
        return Identifier("email", email) if email and email not in blocked else None
    if identifier_type == "phone":
        phone = normalise_phone(value, phone_region)
        return Identifier("phone", phone) if phone else None
    return Identifier(identifier_type, value)


def normalise_email(raw: str) -> str | None:
    """Return the e-mail trimmed, lower-cased and checked for syntax, or None if invalid."""
    email = raw.strip().lower()
    if _PLAIN_EMAIL.match(email):
        return email  # the common ASCII case; full validation costs ~100 µs an address
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return info.normalized.lower()


def normalise_phone(raw: str, region: str = "TH") -> str | None:
    """Return the phone number in E.164 (``081-234-5678`` -> ``+66812345678``), or None."""
    if _ZEROS.match(raw):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def extract_identifiers(message: Mapping[str, Any], rules: IdentityRules) -> list[Identifier]:
    """Return the distinct identifiers a Segment message carries, highest priority first.

    Sources: ``userId``, ``anonymousId``, ``traits``, ``context.traits``,
    ``context.externalIds`` and ``context.device.id``.
    """
    known = set(rules.priority)
    found: list[Identifier | None] = [
        normalise("user_id", message.get("userId"), rules),
        normalise("anonymous_id", message.get("anonymousId"), rules),
    ]
    context = message.get("context")
    context = context if isinstance(context, Mapping) else {}
    if message.get("type") == "alias":
        # Segment's alias joins a previous id (usually the anonymous one) to the user id.
        found.append(normalise("anonymous_id", message.get("previousId"), rules))
    # A group message's traits describe the company, not the person.
    own_traits = message.get("traits") if message.get("type") != "group" else None
    for traits in (own_traits, context.get("traits")):
        if isinstance(traits, Mapping):
            for key, raw in traits.items():
                id_type = _TRAIT_ALIASES.get(key, key)
                if id_type in known and id_type not in ("user_id", "anonymous_id"):
                    found.append(normalise(id_type, raw, rules))
    external = context.get("externalIds")
    if isinstance(external, list):
        for item in external:
            if isinstance(item, Mapping) and item.get("type") in known:
                found.append(normalise(str(item["type"]), item.get("id"), rules))
    device = context.get("device")
    if isinstance(device, Mapping) and "device_id" in known:
        found.append(normalise("device_id", device.get("id"), rules))
    unique = {identifier for identifier in found if identifier is not None}
    return sorted(unique, key=lambda i: (rules.rank(i.type), i.value))
