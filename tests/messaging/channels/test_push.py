from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from sampan.messaging.channels import push
from sampan.messaging.channels.base import ContentError, Envelope, PermanentError, TransientError
from tests.messaging.servers import free_port
from tests.messaging.servers.push import BrowserSubscription, PushService

PRIVATE_KEY, PUBLIC_KEY = push.generate_vapid_keys()
SUBJECT = "mailto:ops@kafe-sampan.co.th"
CONTENT = {
    "title": "ร้านกาแฟสำปั้น",
    "body": "คำสั่งซื้อ #1024 พร้อมรับที่สาขาสยามแล้วค่ะ",
    "url": "/orders/1024",
    "icon": "https://cdn.kafe-sampan.co.th/icon-192.png",
    "data": {"order_id": 1024, "tags": ["pickup"]},
}


def envelope(subscription: str, content: dict[str, Any] | None = None) -> Envelope:
    return Envelope(
        message_id="msg-1",
        retry_key="retry-1",
        to=(subscription,),
        content=CONTENT if content is None else content,
        category="transactional",
    )


def make_config(**overrides: Any) -> push.Config:
    values: dict[str, Any] = {
        "vapid_private_key": PRIVATE_KEY,
        "vapid_public_key": PUBLIC_KEY,
        "vapid_subject": SUBJECT,
        "allow_http_endpoints": True,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return push.Config(**values)


@pytest.fixture(scope="module")
def shared_service() -> Iterator[PushService]:
    with PushService() as server:
        yield server


@pytest.fixture
def service(shared_service: PushService) -> PushService:
    shared_service.reset()
    return shared_service


@pytest.fixture
def subscription(service: PushService) -> BrowserSubscription:
    return service.subscribe(PUBLIC_KEY)


@pytest.fixture
def adapter() -> Iterator[push.Adapter]:
    channel = push.Adapter(make_config())
    yield channel
    channel.close()


def test_push_arrives_encrypted_and_decrypts_to_what_was_sent(
    service: PushService, subscription: BrowserSubscription, adapter: push.Adapter
) -> None:
    delivery = adapter.send(envelope(subscription.json))

    (received,) = service.received
    assert received.subscription_id == subscription.id
    assert json.loads(received.payload) == CONTENT
    assert "คำสั่งซื้อ".encode() in received.payload
    assert (received.ttl, received.urgency) == (86400, "normal")
    assert received.claims["aud"] == service.url
    assert received.claims["sub"] == SUBJECT
    assert received.headers["content-encoding"] == "aes128gcm"
    assert delivery.provider_message_id == f"{service.url}/message/000001"
    assert delivery.units == 1


def test_pem_key_ttl_and_urgency_from_config(
    service: PushService, subscription: BrowserSubscription
) -> None:
    key = push.load_private_key(PRIVATE_KEY)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    channel = push.Adapter(make_config(vapid_private_key=pem, ttl_seconds=600, urgency="high"))
    channel.send(envelope(subscription.json, {"title": "t", "body": "b"}))
    channel.close()
    (received,) = service.received
    assert (received.ttl, received.urgency) == (600, "high")
    assert json.loads(received.payload) == {"title": "t", "body": "b"}


def test_each_endpoint_gets_its_own_audience(
    service: PushService, subscription: BrowserSubscription, adapter: push.Adapter
) -> None:
    with PushService() as other:
        elsewhere = other.subscribe(PUBLIC_KEY)
        adapter.send(envelope(subscription.json))
        adapter.send(envelope(elsewhere.json))
        adapter.send(envelope(subscription.json))
        assert [p.claims["aud"] for p in other.received] == [other.url]
    assert [p.claims["aud"] for p in service.received] == [service.url, service.url]


def test_gone_subscription_is_permanent_with_status(
    service: PushService, subscription: BrowserSubscription, adapter: push.Adapter
) -> None:
    service.unsubscribe(subscription)
    with pytest.raises(PermanentError, match="push subscription is gone") as excinfo:
        adapter.send(envelope(subscription.json))
    assert excinfo.value.status == 410
    assert service.received == []


def test_unknown_subscription_is_permanent_404(service: PushService, adapter: push.Adapter) -> None:
    stranger = json.loads(service.subscribe(PUBLIC_KEY).json)
    stranger["endpoint"] = f"{service.url}/push/nobody"
    with pytest.raises(PermanentError) as excinfo:
        adapter.send(envelope(json.dumps(stranger)))
    assert excinfo.value.status == 404


def test_subscription_made_for_another_vapid_key_is_refused(
    service: PushService, adapter: push.Adapter
) -> None:
    other_public = push.generate_vapid_keys()[1]
    foreign = service.subscribe(other_public)
    with pytest.raises(PermanentError, match="HTTP 403: VAPID key differs") as excinfo:
        adapter.send(envelope(foreign.json))
    assert excinfo.value.status == 403
    assert service.received == []


def test_429_with_retry_after_is_transient(
    service: PushService, subscription: BrowserSubscription, adapter: push.Adapter
) -> None:
    service.fail_next(1, 429, retry_after="120")
    with pytest.raises(TransientError) as excinfo:
        adapter.send(envelope(subscription.json))
    assert (excinfo.value.status, excinfo.value.retry_after) == (429, 120.0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(
    service: PushService, subscription: BrowserSubscription, adapter: push.Adapter, status: int
) -> None:
    service.fail_next(1, status)
    with pytest.raises(TransientError, match=f"push service answered HTTP {status}"):
        adapter.send(envelope(subscription.json))


@pytest.mark.parametrize("status", [400, 401, 413])
def test_other_4xx_is_permanent(
    service: PushService, subscription: BrowserSubscription, adapter: push.Adapter, status: int
) -> None:
    service.fail_next(1, status)
    with pytest.raises(PermanentError) as excinfo:
        adapter.send(envelope(subscription.json))
    assert excinfo.value.status == status


def test_connection_refused_is_transient(subscription: BrowserSubscription) -> None:
    dead = json.loads(subscription.json)
    dead["endpoint"] = f"http://127.0.0.1:{free_port()}/push/x"
    channel = push.Adapter(make_config())
    with pytest.raises(TransientError, match="push service unreachable: ConnectError"):
        channel.send(envelope(json.dumps(dead)))
    channel.close()


def test_malformed_subscription_is_permanent_before_any_request(
    service: PushService, adapter: push.Adapter
) -> None:
    with pytest.raises(PermanentError, match="push refused: push subscription is not JSON"):
        adapter.send(envelope("{endpoint"))
    assert service.server.requests == []


def test_http_endpoint_needs_explicit_permission(subscription: BrowserSubscription) -> None:
    channel = push.Adapter(make_config(allow_http_endpoints=False))
    with pytest.raises(PermanentError, match="must be an https URL"):
        channel.send(envelope(subscription.json))
    channel.close()


# parse_subscription -----------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


P256DH = b64(
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
)
AUTH = b64(b"0123456789abcdef")


def sub_json(**changes: Any) -> str:
    value: dict[str, Any] = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }
    value.update(changes)
    return json.dumps(value)


def test_parse_subscription_keeps_endpoint_and_keys() -> None:
    assert push.parse_subscription(sub_json(expirationTime=None)) == {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "push subscription is not JSON"),
        ("[]", "must be a JSON object"),
        (sub_json(endpoint=None), "has no 'endpoint'"),
        (sub_json(endpoint="http://push.example/x"), "must be an https URL"),
        (sub_json(endpoint="https:///x"), "must be an https URL"),
        (sub_json(keys=None), "has no 'keys' object"),
        (sub_json(keys={"auth": AUTH}), "keys.p256dh is missing"),
        (sub_json(keys={"p256dh": "%%%", "auth": AUTH}), "keys.p256dh is not base64url"),
        (sub_json(keys={"p256dh": b64(b"\x04" * 33), "auth": AUTH}), "65-byte uncompressed"),
        (sub_json(keys={"p256dh": b64(b"\x04" + b"\x01" * 64), "auth": AUTH}), "not a point"),
        (sub_json(keys={"p256dh": P256DH, "auth": b64(b"short")}), "keys.auth must be 16 bytes"),
    ],
)
def test_parse_subscription_refuses_precisely(text: str, message: str) -> None:
    with pytest.raises(ContentError) as excinfo:
        push.parse_subscription(text)
    assert message in str(excinfo.value)


def test_http_endpoint_allowed_for_loopback_only() -> None:
    push.parse_subscription(sub_json(endpoint="http://127.0.0.1:8080/push/1"), allow_http=True)
    with pytest.raises(ContentError, match="must be an https URL"):
        push.parse_subscription(sub_json(endpoint="http://10.0.0.5/push/1"), allow_http=True)


# check_content and config -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"title": "t", "body": "b", "image": "x"}, "unknown field 'image'"),
        ({"body": "b"}, "content['title'] must be a non-empty string"),
        ({"title": "t", "body": " "}, "content['body'] must be a non-empty string"),
        ({"title": "t", "body": "b", "url": "javascript:alert(1)"}, "content['url'] must be"),
        ({"title": "t", "body": "b", "icon": 5}, "content['icon'] must be"),
        ({"title": "t", "body": "b", "data": [1]}, "content['data'] must be a JSON object"),
        ({"title": "t", "body": "b", "data": {"x": {1, 2}}}, "content is not JSON"),
        ({"title": "t", "body": "ก" * 1400}, "bytes as JSON; a push payload holds at most 3993"),
    ],
)
def test_check_content_names_the_field(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError) as excinfo:
        push.check_content(content)
    assert message in str(excinfo.value)


def test_check_content_counts_thai_as_utf8() -> None:
    # 1300 Thai characters are 3900 bytes in UTF-8 (7800 as \\u escapes): they fit.
    push.check_content({"title": "t", "body": "ก" * 1300})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vapid_private_key": "not a key"}, "vapid_private_key is neither a PEM key"),
        ({"vapid_public_key": push.generate_vapid_keys()[1]}, "is not the public half"),
        ({"vapid_subject": "ops@kafe-sampan.co.th"}, "must be a mailto: address or an https://"),
        ({"vapid_subject": "http://kafe-sampan.co.th"}, "must be a mailto: address"),
        ({"urgency": "urgent"}, "Input should be 'very-low', 'low', 'normal' or 'high'"),
        ({"ttl_seconds": -1}, "greater than or equal to 0"),
    ],
)
def test_config_refuses_with_precise_messages(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_config(**overrides)
    assert message in str(excinfo.value)


def test_config_accepts_https_subject_with_a_path() -> None:
    config = make_config(vapid_subject="https://kafe-sampan.co.th/contact")
    assert (config.ttl_seconds, config.urgency) == (86400, "normal")


def test_generated_keys_are_a_p256_pair() -> None:
    private, public = push.generate_vapid_keys()
    assert push.public_key_b64(push.load_private_key(private)) == public
    assert len(base64.urlsafe_b64decode(public + "=")) == 65


def test_adapter_is_not_idempotent_and_sends_to_one_subscription() -> None:
    assert (push.KIND, push.Adapter.idempotent, push.Adapter.max_recipients) == ("push", False, 1)
