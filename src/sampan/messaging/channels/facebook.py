"""Facebook Messenger through the Graph Send API, and the page webhook's pure helpers.

Meta's standard messaging window applies: a page may message a person within 24 hours of
their last message to it. Marketing goes out as ``UPDATE`` and fails with error 10 / 2018278
outside that window; transactional messages carry a message tag (``POST_PURCHASE_UPDATE``
unless configured) that Meta allows outside the window for non-promotional updates only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sampan.messaging.channels.base import (
    ChannelError,
    ContentError,
    Delivery,
    Envelope,
    InboundEvent,
    PermanentError,
    TransientError,
)
from sampan.messaging.channels.provider_http import (
    checked_http_url,
    error_for_answer,
    error_for_transport,
    is_transient_status,
    retry_after_seconds,
)

KIND = "facebook"
GRAPH_BASE = "https://graph.facebook.com"
# v21.0 is retired on 21 January 2027; v26.0 (July 2026) is the newest.
API_VERSION = "v26.0"
MESSAGE_TAGS = ("POST_PURCHASE_UPDATE", "CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT")
# Graph error codes meaning "try later": unknown/temporary errors and the rate limits
# (application, user, page, and the per-call-type 613).
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613})
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_METADATA = 1000
ATTACHMENT_TYPES = ("image", "audio", "video", "file", "template")
_MESSAGE_FIELDS = ("text", "attachment", "quick_replies", "metadata")


class Config(BaseModel):
    """One Facebook page connected through a Meta app."""

    model_config = ConfigDict(extra="forbid")

    page_access_token: SecretStr
    app_secret: SecretStr
    # What the webhook subscription handshake must present (chosen in the app dashboard).
    verify_token: SecretStr
    graph_base: str = GRAPH_BASE
    api_version: str = API_VERSION
    transactional_tag: Literal[
        "POST_PURCHASE_UPDATE", "CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT"
    ] = "POST_PURCHASE_UPDATE"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("graph_base")
    @classmethod
    def _graph_base_is_http(cls, url: str) -> str:
        return checked_http_url(url, field="graph_base").rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version_is_graph_version(cls, version: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", version):
            raise ValueError(f"api_version {version!r} must look like 'v26.0'")
        return version

    @field_validator("page_access_token", "app_secret", "verify_token")
    @classmethod
    def _not_empty(cls, secret: SecretStr) -> SecretStr:
        if not secret.get_secret_value().strip():
            raise ValueError("must not be empty")
        return secret


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Return the ``appsecret_proof`` Graph wants with a token: HMAC-SHA256 hex, app secret key."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def check_content(content: Mapping[str, Any]) -> None:
    """Refuse content other than ``{"message": {"text": ...} or {"attachment": ...}}``."""
    unknown = sorted(set(content) - {"message"})
    if unknown:
        raise ContentError(f"content has unknown field {unknown[0]!r}: expected only 'message'")
    message = content.get("message")
    if not isinstance(message, Mapping):
        raise ContentError("content['message'] must be an object with 'text' or 'attachment'")
    unknown = sorted(set(message) - set(_MESSAGE_FIELDS))
    if unknown:
        raise ContentError(
            f"content['message'] has unknown field {unknown[0]!r}: "
            f"expected {', '.join(_MESSAGE_FIELDS)}"
        )
    if ("text" in message) == ("attachment" in message):
        raise ContentError("content['message'] needs exactly one of 'text' and 'attachment'")
    if "text" in message:
        _check_text(message["text"])
    else:
        _check_attachment(message["attachment"])
    replies = message.get("quick_replies")
    if replies is not None and (not isinstance(replies, list) or len(replies) > MAX_QUICK_REPLIES):
        raise ContentError(
            f"content['message']['quick_replies'] must be a list of at most {MAX_QUICK_REPLIES}"
        )
    metadata = message.get("metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > MAX_METADATA):
        raise ContentError(
            f"content['message']['metadata'] must be a string of at most {MAX_METADATA} characters"
        )


def _check_text(text: Any) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ContentError("content['message']['text'] must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise ContentError(
            f"content['message']['text'] has {len(text)} characters; Messenger allows {MAX_TEXT}"
        )


def _check_attachment(attachment: Any) -> None:
    where = "content['message']['attachment']"
    if not isinstance(attachment, Mapping):
        raise ContentError(f"{where} must be an object with 'type' and 'payload'")
    kind = attachment.get("type")
    if kind not in ATTACHMENT_TYPES:
        raise ContentError(
            f"{where}['type'] is {kind!r}; expected one of {', '.join(ATTACHMENT_TYPES)}"
        )
    payload = attachment.get("payload")
    if not isinstance(payload, Mapping):
        raise ContentError(f"{where}['payload'] must be an object")
    if kind == "template" and not payload.get("template_type"):
        raise ContentError(f"{where}['payload']['template_type'] is missing")
    if kind != "template" and not (payload.get("url") or payload.get("attachment_id")):
        raise ContentError(f"{where}['payload'] needs 'url' or 'attachment_id'")


def messaging_type(category: str, tag: str) -> dict[str, str]:
    """Return the Send API fields saying why a page may send a message of this category."""
    if category == "transactional":
        return {"messaging_type": "MESSAGE_TAG", "tag": tag}
    return {"messaging_type": "UPDATE"}


class Adapter:
    """Send Messenger messages to page-scoped ids (PSIDs) through the Send API.

    Not idempotent: the Send API has no retry key, so a resend may deliver twice.
    """

    idempotent: bool = False
    max_recipients: int = 1

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        token = config.page_access_token.get_secret_value()
        self._url = f"{config.graph_base}/{config.api_version}/me/messages"
        self._params = {
            "access_token": token,
            "appsecret_proof": appsecret_proof(token, config.app_secret.get_secret_value()),
        }
        self._client = httpx.Client(timeout=config.timeout_seconds)

    def send(self, envelope: Envelope) -> Delivery:
        """Send ``content["message"]`` to the one PSID in ``envelope.to``."""
        try:
            check_content(envelope.content)
        except ContentError as exc:
            raise PermanentError(f"Messenger content refused: {exc}") from exc
        if len(envelope.to) != 1:
            raise PermanentError(f"a Messenger message goes to one PSID, got {len(envelope.to)}")
        body = {
            "recipient": {"id": envelope.to[0]},
            **messaging_type(envelope.category, self.config.transactional_tag),
            "message": envelope.content["message"],
        }
        try:
            response = self._client.post(self._url, params=self._params, json=body)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, provider="Graph API") from exc
        if not response.is_success:
            raise self._error(response)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        return Delivery(provider_message_id=str(message_id) if message_id else None)

    def _error(self, response: httpx.Response) -> ChannelError:
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            return error_for_answer(response, provider="Graph API", now=self._clock())
        code, subcode = error.get("code"), error.get("error_subcode")
        message = (
            f"Graph API error {code}"
            + (f"/{subcode}" if subcode is not None else "")
            + f" ({error.get('type', 'unknown type')}, HTTP {response.status_code}): "
            + str(error.get("message", ""))
            + (f" [fbtrace_id {error['fbtrace_id']}]" if error.get("fbtrace_id") else "")
        )
        status = response.status_code
        if (
            code in TRANSIENT_CODES
            or error.get("is_transient") is True
            or is_transient_status(status)
        ):
            retry_after = retry_after_seconds(
                response.headers.get("retry-after"), now=self._clock()
            )
            return TransientError(message, status=status, retry_after=retry_after)
        return PermanentError(message, status=status)

    def close(self) -> None:
        """Close the Graph API connections."""
        self._client.close()


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """Return whether ``X-Hub-Signature-256`` is the app secret's HMAC-SHA256 of ``body``."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def verify_subscription(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> str | None:
    """Answer the webhook GET handshake: the challenge when mode and token are right, else None.

    The arguments are the ``hub.mode``, ``hub.verify_token`` and ``hub.challenge`` query
    parameters.
    """
    if mode != "subscribe" or token is None or challenge is None:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge


def parse_webhook(body: bytes) -> list[InboundEvent]:
    """Return the messages, postbacks, deliveries and reads in a verified page webhook body.

    Echoes of the page's own messages and other events (reactions, referrals, opt-ins,
    handover ``standby`` entries) are left out.
    """
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"Messenger webhook body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError("Messenger webhook body must be a JSON object")
    if payload.get("object") != "page":
        raise ValueError(f"Messenger webhook object is {payload.get('object')!r}, expected 'page'")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise ValueError("Messenger webhook has no 'entry' list")
    events: list[InboundEvent] = []
    for e, entry in enumerate(entries):
        items = entry.get("messaging", []) if isinstance(entry, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"entry[{e}].messaging must be a list")
        for m, item in enumerate(items):
            event = _event(item, f"entry[{e}].messaging[{m}]")
            if event is not None:
                events.append(event)
    return events


def _event(item: Any, where: str) -> InboundEvent | None:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object")
    sender = item.get("sender")
    psid = sender.get("id") if isinstance(sender, dict) else None
    if not isinstance(psid, str) or not psid:
        raise ValueError(f"{where}.sender.id is missing")
    timestamp = item.get("timestamp")
    if not isinstance(timestamp, int):
        raise ValueError(f"{where}.timestamp must be milliseconds since the epoch")
    common: dict[str, Any] = {"channel_user_id": psid, "timestamp_ms": timestamp, "raw": item}
    if isinstance(message := item.get("message"), dict):
        if message.get("is_echo"):
            return None
        mid = message.get("mid")
        if not isinstance(mid, str) or not mid:
            raise ValueError(f"{where}.message.mid is missing")
        reply = message.get("quick_reply")
        return InboundEvent(
            kind="message",
            event_id=mid,
            text=message.get("text"),
            postback_data=reply.get("payload") if isinstance(reply, dict) else None,
            **common,
        )
    if isinstance(postback := item.get("postback"), dict):
        mid = postback.get("mid")
        return InboundEvent(
            kind="postback",
            event_id=mid if isinstance(mid, str) and mid else _stable_id("postback", item),
            text=postback.get("title"),
            postback_data=postback.get("payload"),
            **common,
        )
    for kind in ("delivery", "read"):
        if isinstance(item.get(kind), dict):
            return InboundEvent(kind=kind, event_id=_stable_id(kind, item), **common)
    return None


def _stable_id(kind: str, item: Mapping[str, Any]) -> str:
    # Meta gives deliveries and reads no id; the same event redelivered hashes the same.
    canonical = json.dumps(
        {
            "kind": kind,
            "sender": item.get("sender"),
            "recipient": item.get("recipient"),
            "timestamp": item.get("timestamp"),
            "body": item.get(kind),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"
