"""Mask personal data in API answers for principals without ``pii:read``.

``mask_document`` works on any JSON document, so every route, including those of domains
added later, is masked by ``PiiMaskingMiddleware`` without knowing their shapes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from sampan.access.schemas import Permission, Principal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HIDDEN = "***"
# Keys are compared lower-cased without "_" or "-": first_name, firstName, First-Name.
_EMAIL_KEYS = frozenset({"email", "emailaddress", "mail"})
_PHONE_KEYS = frozenset({"phone", "phonenumber", "mobile", "mobilephone", "tel", "telephone"})
_NAME_KEYS = frozenset(
    {
        "firstname",
        "lastname",
        "middlename",
        "fullname",
        "displayname",
        "nickname",
        "givenname",
        "familyname",
        "surname",
        "customername",
    }
)
_HIDDEN_KEYS = frozenset(
    {
        "address",
        "street",
        "streetaddress",
        "postalcode",
        "zipcode",
        "birthday",
        "birthdate",
        "dateofbirth",
        "dob",
        "citizenid",
        "nationalid",
        "idcard",
        "passport",
        "passportnumber",
        "taxid",
        "ip",
        "ipaddress",
        # Commerce's Order Ready For Pickup event carries the code the customer shows.
        "pickupcode",
    }
)
# Contact and membership ids kept as traits (identities are masked by their type).
_IDENTIFIER_KEYS = frozenset(
    {"lineuserid", "loyaltyid", "memberid", "membershipid", "poscustomerid", "facebookpsid", "psid"}
)
# "name" is a person's name in a person's record, but an event's, page's or product's name
# elsewhere: it is masked under "traits" and next to an e-mail or phone key only.
_PERSON_CONTEXTS = frozenset({"traits", "contact", "customer", "recipient", "person"})
# Identifier types that are Sampan's or the client's own pseudonymous keys, not contact data.
_INTERNAL_IDENTIFIER_TYPES = frozenset({"user_id", "anonymous_id", "device_id"})

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Thai mobile (06/08/09 + 8 digits) and landline (02-07 + 7 digits) numbers, national or
# +66, with optional spaces or dashes; never inside an id such as prf_0193...
_THAI_PHONE = re.compile(
    r"(?<![0-9A-Za-z_+])"
    r"(?:(?:\+66|66)[\s-]?|0)"
    r"(?:[689]\d[\s-]?\d{3}[\s-]?\d{4}|[2-7][\s-]?\d{3}[\s-]?\d{4})"
    r"(?![0-9A-Za-z])"
)


def mask_phone(phone: str) -> str:
    """Return the phone with only its prefix and last four digits: ``08x-xxx-5678``."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("66") and len(digits) in (10, 11) and not phone.startswith("0"):
        digits = "0" + digits[2:]
    if digits.startswith("0") and len(digits) in (9, 10):
        return f"{digits[:2]}x-xxx-{digits[-4:]}"
    if len(digits) >= 7:
        return f"xxx-xxx-{digits[-4:]}"
    return HIDDEN


def mask_email(email: str) -> str:
    """Return the address with its local part hidden but its first letter: ``s***@gmail.com``."""
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return HIDDEN
    return f"{local[:1]}{HIDDEN}@{domain}"


def mask_name(name: str) -> str:
    """Return each word of the name cut to its first letter: ``ส*** ใ***``."""
    words = name.split()
    return " ".join(f"{word[:1]}{HIDDEN}" for word in words) if words else HIDDEN


def mask_identifier(identifier_type: str, value: str) -> str:
    """Return an identifier's value masked the way its type calls for."""
    if identifier_type == "email":
        return mask_email(value)
    if identifier_type == "phone":
        return mask_phone(value)
    if identifier_type in _INTERNAL_IDENTIFIER_TYPES:
        return value
    return f"{HIDDEN}{value[-4:]}" if len(value) > 8 else HIDDEN


def mask_text(text: str) -> str:
    """Return the text with every e-mail address and Thai phone number in it masked."""
    if "@" in text:
        text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    if sum(c.isdigit() for c in text) >= 9:
        text = _THAI_PHONE.sub(lambda m: mask_phone(m.group()), text)
    return text


def mask_document(obj: Any) -> Any:
    """Return a copy of a JSON document with every piece of personal data in it masked."""
    return _mask(obj, person=False)


def _mask(obj: Any, *, person: bool) -> Any:
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, list):
        return [_mask(item, person=person) for item in obj]
    if not isinstance(obj, dict):
        return obj
    identifier_type = obj.get("type")
    if isinstance(identifier_type, str) and isinstance(obj.get("value"), str):
        # An identifier such as {"type": "phone", "value": "+66812345678"}.
        return {
            k: mask_identifier(identifier_type, v) if k == "value" else _mask(v, person=False)
            for k, v in obj.items()
        }
    person = person or any(_key(k) in _EMAIL_KEYS | _PHONE_KEYS for k in obj)
    return {k: _mask_field(_key(k), v, person=person) for k, v in obj.items()}


def _mask_field(key: str, value: Any, *, person: bool) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if key in _EMAIL_KEYS:
        return _leaves(value, mask_email)
    if key in _PHONE_KEYS:
        return _leaves(value, mask_phone)
    if key in _NAME_KEYS or (person and key == "name"):
        return _leaves(value, mask_name)
    if key in _HIDDEN_KEYS:
        return _leaves(value, lambda _: HIDDEN)
    if key in _IDENTIFIER_KEYS:
        return _leaves(value, lambda text: mask_identifier(key, text))
    return _mask(value, person=key in _PERSON_CONTEXTS)


def _leaves(value: Any, mask: Callable[[str], str]) -> Any:
    """Mask every scalar under a personal-data key: a dict of address lines, a list of phones."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {k: _leaves(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, mask) for v in value]
    return mask(str(value))


def _key(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def principal_of(scope: Scope) -> Principal | None:
    """Return the principal a guard stored on this request, if any."""
    principal = scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


class PiiMaskingMiddleware:
    """Mask the JSON answers of /api routes for principals without ``pii:read``.

    The guard stores the principal on the request before the route runs, so by the time the
    answer starts the middleware knows whether to mask. Error answers are masked too: a 404
    may quote the e-mail address that was looked up.
    """

    def __init__(self, app: ASGIApp, *, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI scope, masking its answer when the caller may not read PII."""
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def masking_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                principal = principal_of(scope)
                if principal is None or principal.can(Permission.PII_READ):
                    await send(message)
                    return
                if not _is_json(message):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = _masked_body(b"".join(chunks))
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, masking_send)


def _is_json(start: Message) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).split(b";")[0].strip().endswith(b"json")
    return False


def _masked_body(body: bytes) -> bytes:
    if not body:
        return body
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    return orjson.dumps(mask_document(document))
