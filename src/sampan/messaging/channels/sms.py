"""SMS through any HTTP gateway described by configuration, and SMS segment counting.

Thai gateways differ only in URL, auth, field names and number format, so one adapter driven
by a body template serves them all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import httpx
import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from sampan.messaging.channels.base import ContentError, Delivery, Envelope, PermanentError
from sampan.messaging.channels.provider_http import (
    checked_http_url,
    error_for_answer,
    error_for_transport,
)

KIND = "sms"

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in code order, without ESC (0x1B), which only introduces
# the extension table.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each travels as ESC + code, so it costs two septets.
GSM_EXTENSION = "\f^{}\\[~]|€"
_GSM_CHARS = frozenset(GSM_BASIC + GSM_EXTENSION)
_GSM_EXTENSION_CHARS = frozenset(GSM_EXTENSION)

# Units in a single message, and per part once a user data header takes its 6 octets.
_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

DEFAULT_MAX_PARTS = 6
PLACEHOLDERS = ("to", "text", "sender", "message_id", "retry_key")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 ._&-]{1,11}")
_NUMERIC_SENDER = re.compile(r"\+?\d{1,15}")


@dataclass(frozen=True)
class SmsSegments:
    """How a text travels as SMS: its encoding, its length in that encoding, its parts."""

    encoding: Encoding
    units: int
    parts: int


def sms_encoding(text: str) -> Encoding:
    """Return GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2."""
    return "GSM-7" if all(char in _GSM_CHARS for char in text) else "UCS-2"


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in _GSM_EXTENSION_CHARS else 1
    # UTF-16 code units: a character outside the BMP (most emoji) is a surrogate pair.
    return 2 if ord(char) > 0xFFFF else 1


def sms_parts(text: str) -> tuple[str, ...]:
    """Split ``text`` into the parts a gateway sends it in.

    Parts are packed character by character, so an extension character (ESC + code) or a
    surrogate pair never straddles two parts; that is why a part may hold one unit less
    than the limit, and why parts are counted by packing rather than by division.
    """
    encoding = sms_encoding(text)
    single, per_part = _LIMITS[encoding]
    costs = [_cost(char, encoding) for char in text]
    if sum(costs) <= single:
        return (text,)
    parts: list[str] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > per_part:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return tuple(parts)


def sms_segments(text: str) -> SmsSegments:
    """Return the encoding, units and parts of ``text`` as an SMS.

    GSM-7 counts septets (extension characters two), UCS-2 counts UTF-16 code units. An
    empty text is one part of zero units: that is what gateways bill for it.
    """
    encoding = sms_encoding(text)
    units = sum(_cost(char, encoding) for char in text)
    return SmsSegments(encoding=encoding, units=units, parts=len(sms_parts(text)))


def check_content(content: Mapping[str, Any], *, max_parts: int = DEFAULT_MAX_PARTS) -> None:
    """Refuse content other than ``{"text": non-empty str}`` fitting in ``max_parts`` parts."""
    unknown = sorted(set(content) - {"text"})
    if unknown:
        raise ContentError(f"content has unknown field {unknown[0]!r}: SMS content is {{'text'}}")
    text = content.get("text")
    if not isinstance(text, str):
        raise ContentError(f"content['text'] must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ContentError("content['text'] is empty")
    segments = sms_segments(text)
    if segments.parts > max_parts:
        raise ContentError(
            f"content['text'] needs {segments.parts} SMS parts ({segments.encoding}, "
            f"{segments.units} units); at most {max_parts} are allowed"
        )


class BearerAuth(BaseModel):
    """``Authorization: Bearer <token>``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["bearer"]
    token: SecretStr


class BasicAuth(BaseModel):
    """HTTP basic authentication."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["basic"]
    username: str
    password: SecretStr


class HeaderAuth(BaseModel):
    """A key in a header of the gateway's choosing, such as ``X-API-Key``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["header"]
    name: str
    value: SecretStr

    @field_validator("name")
    @classmethod
    def _name_is_a_header_name(cls, name: str) -> str:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"auth header name {name!r} is not a valid HTTP header name")
        return name


GatewayAuth = Annotated[BearerAuth | BasicAuth | HeaderAuth, Field(discriminator="type")]


class Config(BaseModel):
    """One SMS gateway account: where to send, how to authenticate, how the body looks.

    ``body_template`` maps each field of the request to a string in which ``{to}``,
    ``{text}``, ``{sender}``, ``{message_id}`` and ``{retry_key}`` are replaced. A field whose
    whole value is ``{sender}`` is left out when no sender is configured.
    """

    model_config = ConfigDict(extra="forbid")

    url: str
    method: Literal["POST", "PUT", "GET"] = "POST"
    auth: GatewayAuth | None = None
    sender: str | None = None
    body_format: Literal["json", "form"] = "json"
    body_template: dict[str, str] = Field(
        default_factory=lambda: {"msisdn": "{to}", "message": "{text}", "sender": "{sender}"}
    )
    to_format: Literal["e164", "e164_digits", "national"] = "e164_digits"
    message_id_path: str = "id"
    max_parts: int = Field(default=DEFAULT_MAX_PARTS, ge=1, le=255)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, url: str) -> str:
        return checked_http_url(url, field="url")

    @field_validator("sender")
    @classmethod
    def _sender_is_valid(cls, sender: str | None) -> str | None:
        if sender is None or _NUMERIC_SENDER.fullmatch(sender):
            return sender
        if not _ALPHANUMERIC_SENDER.fullmatch(sender):
            raise ValueError(
                f"sender {sender!r} is not a valid SMS sender: an alphanumeric sender is 1 to 11 "
                "ASCII letters, digits, spaces or . _ & -, a numeric one up to 15 digits"
            )
        return sender

    @field_validator("body_template")
    @classmethod
    def _template_is_valid(cls, template: dict[str, str]) -> dict[str, str]:
        for field, value in template.items():
            stray = _PLACEHOLDER.sub("", value)
            if "{" in stray or "}" in stray:
                found = re.search(r"\{[^{}]*\}?|\}", stray)
                known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
                raise ValueError(
                    f"body_template[{field!r}] has {found.group(0) if found else stray!r}, "
                    f"which is not a placeholder: use {known}"
                )
        used = {name for value in template.values() for name in _PLACEHOLDER.findall(value)}
        missing = [name for name in ("to", "text") if name not in used]
        if missing:
            raise ValueError(
                f"body_template must place {' and '.join('{' + m + '}' for m in missing)} "
                "in some field, or the gateway cannot know what to send where"
            )
        return template

    @field_validator("message_id_path")
    @classmethod
    def _path_is_dotted(cls, path: str) -> str:
        if not path or any(not key for key in path.split(".")):
            raise ValueError(f"message_id_path {path!r} must be dotted keys such as 'data.id'")
        return path

    @model_validator(mode="after")
    def _get_has_no_body(self) -> Config:
        if self.method == "GET" and self.body_format != "form":
            raise ValueError(
                "method GET sends the fields in the query string: set body_format 'form'"
            )
        return self


def format_recipient(to: str, to_format: str) -> str:
    """Return an E.164 number in the gateway's format, or raise PermanentError."""
    if not _E164.fullmatch(to):
        raise PermanentError(f"SMS recipient {to!r} is not an E.164 number such as +66812345678")
    if to_format == "e164":
        return to
    if to_format == "e164_digits":
        return to[1:]
    try:
        number = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException as exc:
        raise PermanentError(f"SMS recipient {to!r} is not a phone number: {exc}") from exc
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", str(national))


def render_body(template: Mapping[str, str], values: Mapping[str, str | None]) -> dict[str, str]:
    """Fill the template's placeholders; substituted values are never parsed again."""
    body: dict[str, str] = {}
    for field, pattern in template.items():
        whole = _PLACEHOLDER.fullmatch(pattern)
        if whole and values[whole.group(1)] is None:
            continue
        body[field] = _PLACEHOLDER.sub(lambda match: values[match.group(1)] or "", pattern)
    return body


def find_message_id(answer: Any, path: str) -> str | None:
    """Return the value at a dotted path (``data.messages.0.id``) of a JSON answer, if any."""
    node = answer
    for key in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    if node is None or isinstance(node, (Mapping, list)):
        return None
    return str(node)


class Adapter:
    """Send one SMS per envelope through the configured gateway.

    Not idempotent: gateways have no common retry key, so a resend may send twice.
    """

    idempotent: bool = False
    max_recipients: int = 1

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        headers: dict[str, str] = {}
        auth: httpx.Auth | None = None
        if isinstance(config.auth, BearerAuth):
            headers["Authorization"] = f"Bearer {config.auth.token.get_secret_value()}"
        elif isinstance(config.auth, HeaderAuth):
            headers[config.auth.name] = config.auth.value.get_secret_value()
        elif isinstance(config.auth, BasicAuth):
            auth = httpx.BasicAuth(config.auth.username, config.auth.password.get_secret_value())
        self._client = httpx.Client(timeout=config.timeout_seconds, headers=headers, auth=auth)

    def check_content(self, content: Mapping[str, Any]) -> None:
        """Refuse content this gateway cannot send, with this account's part limit."""
        check_content(content, max_parts=self.config.max_parts)

    def send(self, envelope: Envelope) -> Delivery:
        """Send the text to the one number in ``envelope.to``."""
        try:
            self.check_content(envelope.content)
        except ContentError as exc:
            raise PermanentError(f"SMS content refused: {exc}") from exc
        if len(envelope.to) != 1:
            raise PermanentError(f"an SMS goes to exactly one number, got {len(envelope.to)}")
        text: str = envelope.content["text"]
        segments = sms_segments(text)
        fields = render_body(
            self.config.body_template,
            {
                "to": format_recipient(envelope.to[0], self.config.to_format),
                "text": text,
                "sender": self.config.sender,
                "message_id": envelope.message_id,
                "retry_key": envelope.retry_key,
            },
        )
        response = self._request(fields)
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        return Delivery(
            provider_message_id=find_message_id(answer, self.config.message_id_path),
            units=segments.parts,
            detail={"encoding": segments.encoding, "parts": segments.parts},
        )

    def _request(self, fields: dict[str, str]) -> httpx.Response:
        config = self.config
        try:
            if config.method == "GET":
                response = self._client.get(config.url, params=fields)
            elif config.body_format == "json":
                response = self._client.request(config.method, config.url, json=fields)
            else:
                response = self._client.request(config.method, config.url, data=fields)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, provider="SMS gateway") from exc
        if not response.is_success:
            raise error_for_answer(response, provider="SMS gateway", now=self._clock())
        return response

    def close(self) -> None:
        """Close the gateway connections."""
        self._client.close()
