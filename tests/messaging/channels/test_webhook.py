from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from sampan.messaging.channels import webhook
from sampan.messaging.channels.base import ContentError, Envelope, PermanentError, TransientError
from tests.messaging.servers import free_port
from tests.messaging.servers.webhook import WebhookReceiver

SECRET = "whsec-0123456789abcdef"
NOW = 1_700_000_000.0
PAYLOAD = {"task": "call_back", "customer": "คุณสมชาย ใจดี", "phone": "+66812345678"}


def envelope(message_id: str = "msg-1", payload: Any = None) -> Envelope:
    return Envelope(
        message_id=message_id,
        retry_key=f"retry-{message_id}",
        to=("call-centre",),
        content={"payload": PAYLOAD if payload is None else payload},
        category="transactional",
    )


@pytest.fixture(scope="module")
def shared_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET, clock=lambda: NOW) as server:
        yield server


@pytest.fixture
def receiver(shared_receiver: WebhookReceiver) -> WebhookReceiver:
    shared_receiver.reset()
    return shared_receiver


def make_config(receiver: WebhookReceiver, **overrides: Any) -> webhook.Config:
    values: dict[str, Any] = {"url": receiver.url, "secret": SECRET, "timeout_seconds": 5}
    values.update(overrides)
    return webhook.Config(**values)


@pytest.fixture
def adapter(receiver: WebhookReceiver) -> Iterator[webhook.Adapter]:
    channel = webhook.Adapter(make_config(receiver), clock=lambda: NOW)
    yield channel
    channel.close()


def test_delivery_is_signed_and_verified_by_the_receiver(
    receiver: WebhookReceiver, adapter: webhook.Adapter
) -> None:
    delivery = adapter.send(envelope())

    assert receiver.accepted == [
        {"id": "msg-1", "category": "transactional", "to": ["call-centre"], "payload": PAYLOAD}
    ]
    request = receiver.server.requests[0]
    assert request.headers["x-sampan-delivery"] == "retry-msg-1"
    assert request.headers["x-sampan-timestamp"] == "1700000000"
    expected = hmac.new(SECRET.encode(), b"1700000000." + request.body, hashlib.sha256)
    assert request.headers["x-sampan-signature"] == f"sha256={expected.hexdigest()}"
    assert request.headers["content-type"] == "application/json"
    assert "คุณสมชาย".encode() in request.body
    assert delivery.provider_message_id == "rcv-000001"


def test_same_delivery_twice_is_accepted_once(
    receiver: WebhookReceiver, adapter: webhook.Adapter
) -> None:
    first = adapter.send(envelope())
    again = adapter.send(envelope())

    assert len(receiver.accepted) == 1
    assert receiver.deliveries == ["retry-msg-1", "retry-msg-1"]
    assert first.provider_message_id == again.provider_message_id == "rcv-000001"
    adapter.send(envelope("msg-2"))
    assert [body["id"] for body in receiver.accepted] == ["msg-1", "msg-2"]


def test_extra_headers_are_sent(receiver: WebhookReceiver) -> None:
    channel = webhook.Adapter(
        make_config(receiver, headers={"X-Tenant": "kafe-sampan"}), clock=lambda: NOW
    )
    channel.send(envelope())
    channel.close()
    assert receiver.server.requests[0].headers["x-tenant"] == "kafe-sampan"


def test_wrong_secret_is_refused_by_the_receiver_and_permanent(receiver: WebhookReceiver) -> None:
    channel = webhook.Adapter(
        make_config(receiver, secret="another-secret-of-16"), clock=lambda: NOW
    )
    with pytest.raises(PermanentError, match="HTTP 401: .*bad or stale signature") as excinfo:
        channel.send(envelope())
    channel.close()
    assert excinfo.value.status == 401
    assert receiver.accepted == []
    assert receiver.refused == ["retry-msg-1"]


def test_stale_timestamp_is_refused_by_the_receiver(receiver: WebhookReceiver) -> None:
    channel = webhook.Adapter(make_config(receiver), clock=lambda: NOW - 301)
    with pytest.raises(PermanentError, match="HTTP 401"):
        channel.send(envelope())
    channel.close()
    assert receiver.accepted == []


def test_429_with_retry_after_is_transient(
    receiver: WebhookReceiver, adapter: webhook.Adapter
) -> None:
    receiver.fail_next(1, 429, retry_after="15")
    with pytest.raises(TransientError, match="webhook receiver answered HTTP 429") as excinfo:
        adapter.send(envelope())
    assert (excinfo.value.status, excinfo.value.retry_after) == (429, 15.0)
    assert receiver.accepted == []


@pytest.mark.parametrize("status", [408, 500, 503])
def test_timeouts_and_5xx_are_transient(
    receiver: WebhookReceiver, adapter: webhook.Adapter, status: int
) -> None:
    receiver.fail_next(1, status)
    with pytest.raises(TransientError) as excinfo:
        adapter.send(envelope())
    assert excinfo.value.status == status


@pytest.mark.parametrize("status", [400, 404, 410, 422])
def test_other_4xx_is_permanent(
    receiver: WebhookReceiver, adapter: webhook.Adapter, status: int
) -> None:
    receiver.fail_next(1, status)
    with pytest.raises(PermanentError, match="unavailable") as excinfo:
        adapter.send(envelope())
    assert excinfo.value.status == status


def test_connection_refused_is_transient() -> None:
    config = webhook.Config(url=f"http://127.0.0.1:{free_port()}/hook", secret=SECRET)
    channel = webhook.Adapter(config)
    with pytest.raises(TransientError, match="webhook receiver unreachable: ConnectError"):
        channel.send(envelope())
    channel.close()


def test_bad_content_is_refused_before_any_request(
    receiver: WebhookReceiver, adapter: webhook.Adapter
) -> None:
    with pytest.raises(PermanentError, match="content\\['payload'\\] must be a JSON object"):
        adapter.send(envelope(payload=[1, 2]))
    assert receiver.server.requests == []


# verify_signature -------------------------------------------------------------------------


BODY = b'{"id":"msg-1","payload":{}}'


def test_verify_signature_accepts_a_fresh_correct_signature() -> None:
    signature = webhook.sign(SECRET, "1700000000", BODY)
    assert webhook.verify_signature(SECRET, BODY, "1700000000", signature, now=NOW + 299)
    assert webhook.verify_signature(SECRET, BODY, "1700000000", signature, now=NOW - 299)


@pytest.mark.parametrize(
    ("secret", "body", "timestamp", "signature", "now"),
    [
        ("wrong-secret-0123456", BODY, "1700000000", None, NOW),
        (SECRET, BODY + b" ", "1700000000", None, NOW),
        (SECRET, BODY, "1700000001", None, NOW),
        (SECRET, BODY, "1700000000", "sha256=00", NOW),
        (SECRET, BODY, "1700000000", "", NOW),
        (SECRET, BODY, "1700000000", None, NOW + 301),
        (SECRET, BODY, "1700000000", None, NOW - 301),
        (SECRET, BODY, "17e8", None, NOW),
        (SECRET, BODY, "", None, NOW),
    ],
)
def test_verify_signature_refuses_wrong_tampered_or_stale(
    secret: str, body: bytes, timestamp: str, signature: str | None, now: float
) -> None:
    good = webhook.sign(SECRET, "1700000000", BODY)
    assert not webhook.verify_signature(
        secret, body, timestamp, good if signature is None else signature, now=now
    )


def test_verify_signature_tolerance_is_configurable() -> None:
    signature = webhook.sign(SECRET, "1700000000", BODY)
    assert not webhook.verify_signature(
        SECRET, BODY, "1700000000", signature, now=NOW + 61, tolerance_seconds=60
    )


# check_content and config -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({}, "content['payload'] must be a JSON object"),
        ({"payload": "x"}, "content['payload'] must be a JSON object"),
        ({"payload": {}, "text": "x"}, "unknown field 'text'"),
        ({"payload": {"at": object()}}, "content['payload'] is not JSON"),
    ],
)
def test_check_content_names_the_field(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError) as excinfo:
        webhook.check_content(content)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "erp.example/hook"}, "must be an absolute http:// or https:// URL"),
        ({"secret": "short"}, "secret must be at least 16 characters"),
        ({"headers": {"X-Sampan-Signature": "x"}}, "is set by Sampan and cannot be configured"),
        ({"headers": {"Content-Type": "text/plain"}}, "is set by Sampan"),
        ({"headers": {"Bad Name": "x"}}, "is not a valid HTTP header name"),
        ({"headers": {"X-Ok": "a\r\nX-Evil: 1"}}, "contains a line break"),
        ({"timeout_seconds": 0}, "greater than 0"),
    ],
)
def test_config_refuses_with_precise_messages(overrides: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"url": "https://erp.example/hook", "secret": SECRET, **overrides}
    with pytest.raises(ValidationError) as excinfo:
        webhook.Config(**values)
    assert message in str(excinfo.value)


def test_adapter_is_idempotent() -> None:
    assert (webhook.KIND, webhook.Adapter.idempotent, webhook.Adapter.max_recipients) == (
        "webhook",
        True,
        1,
    )


def test_one_adapter_sends_from_many_threads(
    receiver: WebhookReceiver, adapter: webhook.Adapter
) -> None:
    ids = [f"msg-{i}" for i in range(24)] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        deliveries = list(pool.map(lambda message_id: adapter.send(envelope(message_id)), ids))
    assert sorted(body["id"] for body in receiver.accepted) == sorted(set(ids))
    assert len(receiver.deliveries) == 48
    assert deliveries[:24] == deliveries[24:]
