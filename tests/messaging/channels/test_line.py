from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from sampan.messaging.channels import line
from sampan.messaging.channels.base import (
    ContentError,
    Envelope,
    InboundEvent,
    PermanentError,
    TransientError,
)
from tests.messaging.servers import free_port
from tests.messaging.servers.line import LineApiServer

SECRET = "8f2d6c1e0b9a47d3a5e6f7c8b9d0e1f2"
TEXT = {"type": "text", "text": "สวัสดีค่ะ รับส่วนลด 50% วันนี้"}
STICKER = {"type": "sticker", "packageId": "446", "stickerId": "1988"}
IMAGE = {
    "type": "image",
    "originalContentUrl": "https://cdn.sampan.test/promo.jpg",
    "previewImageUrl": "https://cdn.sampan.test/promo-preview.jpg",
}
BUBBLE = {
    "type": "bubble",
    "body": {
        "type": "box",
        "layout": "vertical",
        "contents": [{"type": "text", "text": "คูปองของคุณ", "weight": "bold"}],
    },
}
FLEX = {"type": "flex", "altText": "คูปองส่วนลด", "contents": BUBBLE}


def envelope(
    *to: str,
    messages: list[dict[str, Any]] | None = None,
    retry_key: str | None = None,
    reply_token: str | None = None,
) -> Envelope:
    return Envelope(
        message_id="msg-1",
        retry_key=retry_key or str(uuid.uuid4()),
        to=to or ("U1111",),
        content={"messages": messages or [TEXT]},
        reply_token=reply_token,
    )


@pytest.fixture(scope="module")
def running_server() -> Iterator[LineApiServer]:
    with LineApiServer() as api:
        yield api


@pytest.fixture
def server(running_server: LineApiServer) -> LineApiServer:
    running_server.reset()
    return running_server


@pytest.fixture
def adapter(server: LineApiServer) -> Iterator[line.Adapter]:
    channel = line.Adapter(
        line.Config(
            channel_access_token=server.token,
            channel_secret=SECRET,
            api_base=server.url,
            timeout_seconds=5,
        )
    )
    yield channel
    channel.close()


def test_push_sends_the_messages_with_the_token_and_retry_key(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    key = str(uuid.uuid4())

    delivery = adapter.send(envelope("U1111", messages=[TEXT, STICKER], retry_key=key))

    assert len(server.accepted) == 1
    accepted = server.accepted[0]
    assert accepted["endpoint"] == "push"
    assert accepted["to"] == "U1111"
    assert accepted["messages"] == [TEXT, STICKER]
    assert accepted["retry_key"] == key
    request = server.requests[0]
    assert request.path == "/v2/bot/message/push"
    assert request.headers["authorization"] == f"Bearer {server.token}"
    assert request.headers["x-line-retry-key"] == key
    assert delivery.provider_message_id == delivery.detail["sent_message_ids"][0]
    assert len(delivery.detail["sent_message_ids"]) == 2
    assert delivery.detail["request_id"] == accepted["request_id"]
    assert delivery.units == 1
    assert delivery.duplicate is False


def test_every_supported_message_type_goes_out_unchanged(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    carousel = {
        "type": "flex",
        "altText": "โปรโมชั่น",
        "contents": {"type": "carousel", "contents": [BUBBLE, BUBBLE]},
    }
    messages: list[dict[str, Any]] = [TEXT, IMAGE, FLEX, carousel, STICKER]

    adapter.send(envelope("U1111", messages=messages))

    assert json.loads(server.requests[0].body)["messages"] == messages


def test_a_retry_key_that_is_not_a_uuid_is_sent_as_the_same_derived_uuid_every_time(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    first = adapter.send(envelope("U1111", retry_key="outbox-42"))
    second = adapter.send(envelope("U1111", retry_key="outbox-42"))

    sent_key = server.requests[0].headers["x-line-retry-key"]
    assert uuid.UUID(sent_key).version == 5
    assert server.requests[1].headers["x-line-retry-key"] == sent_key
    assert first.duplicate is False
    assert second.duplicate is True
    assert len(server.accepted) == 1


def test_a_uuid_retry_key_in_capitals_goes_out_in_lowercase_as_the_same_key() -> None:
    key = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
    assert line.line_retry_key(key) == key.lower()
    assert line.line_retry_key(key.lower()) == key.lower()
    assert line.line_retry_key("{" + key + "}") == key.lower()


def test_several_recipients_go_out_as_one_multicast(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    key = str(uuid.uuid4())

    delivery = adapter.send(envelope("U1", "U2", "U3", retry_key=key))

    assert [a["to"] for a in server.accepted] == ["U1", "U2", "U3"]
    assert {a["endpoint"] for a in server.accepted} == {"multicast"}
    request = server.requests[0]
    assert request.path == "/v2/bot/message/multicast"
    assert request.headers["x-line-retry-key"] == key
    assert json.loads(request.body)["to"] == ["U1", "U2", "U3"]
    assert delivery.provider_message_id == server.accepted[0]["request_id"]
    assert delivery.units == 3


def test_a_reply_token_sends_through_the_reply_api_without_a_retry_key(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    server.allow_reply_token("rt-fresh", "U1111")

    delivery = adapter.send(envelope("U1111", reply_token="rt-fresh"))

    assert [r.path for r in server.requests] == ["/v2/bot/message/reply"]
    assert "x-line-retry-key" not in server.requests[0].headers
    assert json.loads(server.requests[0].body)["replyToken"] == "rt-fresh"
    assert server.accepted[0]["endpoint"] == "reply"
    assert server.accepted[0]["to"] == "U1111"
    assert delivery.detail["endpoint"] == "reply"
    assert delivery.provider_message_id == delivery.detail["sent_message_ids"][0]


def test_an_expired_reply_token_falls_back_to_one_push(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    delivery = adapter.send(envelope("U1111", reply_token="rt-expired"))

    assert [r.path for r in server.requests] == ["/v2/bot/message/reply", "/v2/bot/message/push"]
    assert [(a["endpoint"], a["to"]) for a in server.accepted] == [("push", "U1111")]
    assert delivery.detail["endpoint"] == "push"


def test_resend_with_an_accepted_retry_key_is_a_duplicate_and_nothing_is_sent_again(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    key = str(uuid.uuid4())
    adapter.send(envelope("U1111", retry_key=key))

    again = adapter.send(envelope("U1111", retry_key=key))

    assert len(server.accepted) == 1
    assert again.duplicate is True
    assert again.provider_message_id == server.accepted[0]["request_id"]


def test_multicast_resend_with_the_same_key_is_a_duplicate(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    key = str(uuid.uuid4())
    adapter.send(envelope("U1", "U2", retry_key=key))

    again = adapter.send(envelope("U1", "U2", retry_key=key))

    assert len(server.accepted) == 2
    assert again.duplicate is True
    assert again.units == 2


def test_429_is_transient_with_retry_after_and_nothing_is_sent(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    server.fail_next(1, 429, retry_after=7)

    with pytest.raises(TransientError) as caught:
        adapter.send(envelope("U1111"))

    assert caught.value.status == 429
    assert caught.value.retry_after == 7.0
    assert "The API rate limit has been exceeded" in caught.value.message
    assert server.accepted == []


def test_the_same_retry_key_is_accepted_after_a_rate_limited_attempt(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    key = str(uuid.uuid4())
    server.fail_next(1, 429)
    with pytest.raises(TransientError):
        adapter.send(envelope("U1111", retry_key=key))

    delivery = adapter.send(envelope("U1111", retry_key=key))

    assert delivery.duplicate is False
    assert len(server.accepted) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_transient(server: LineApiServer, adapter: line.Adapter, status: int) -> None:
    server.fail_next(1, status)

    with pytest.raises(TransientError) as caught:
        adapter.send(envelope("U1111"))

    assert caught.value.status == status
    assert caught.value.retry_after is None
    assert server.accepted == []


def test_a_server_that_never_answers_times_out_as_a_transient_error() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are queued by the kernel and never answered
    port = silent.getsockname()[1]
    channel = line.Adapter(
        line.Config(
            channel_access_token="token",
            channel_secret=SECRET,
            api_base=f"http://127.0.0.1:{port}",
            timeout_seconds=0.3,
        )
    )
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            channel.send(envelope("U1111"))
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(timeout=30)
    channel.close()
    silent.close()

    assert not sender.is_alive(), "the send did not time out"
    assert len(outcome) == 1
    assert isinstance(outcome[0], TransientError)
    assert "cannot reach LINE" in outcome[0].message


def test_a_wrong_access_token_is_permanent_and_says_so(server: LineApiServer) -> None:
    channel = line.Adapter(
        line.Config(channel_access_token="revoked", channel_secret=SECRET, api_base=server.url)
    )

    with pytest.raises(PermanentError) as caught:
        channel.send(envelope("U1111"))
    channel.close()

    assert caught.value.status == 401
    assert "LINE push answered 401: Authentication failed" in caught.value.message
    assert server.accepted == []


@pytest.mark.parametrize(
    ("status", "text"),
    [(400, r"answered 400: The request body has 1 error\(s\)"), (403, "not allowed to send")],
)
def test_other_4xx_is_permanent_with_lines_text(
    server: LineApiServer, adapter: line.Adapter, status: int, text: str
) -> None:
    server.fail_next(1, status)

    with pytest.raises(PermanentError, match=text) as caught:
        adapter.send(envelope("U1111"))

    assert caught.value.status == status


def test_an_unreachable_api_is_transient() -> None:
    channel = line.Adapter(
        line.Config(
            channel_access_token="t",
            channel_secret=SECRET,
            api_base=f"http://127.0.0.1:{free_port()}",
        )
    )

    with pytest.raises(TransientError, match="cannot reach LINE at http://127.0.0.1"):
        channel.send(envelope("U1111"))


def test_recipient_counts_outside_1_to_500_are_refused_before_sending(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    too_many = tuple(f"U{n}" for n in range(501))
    with pytest.raises(PermanentError, match="at most 500 user ids, got 501"):
        adapter.send(envelope(*too_many))
    with pytest.raises(PermanentError, match="at least one user id"):
        adapter.send(Envelope(message_id="m", retry_key="k", to=(), content={"messages": [TEXT]}))
    assert server.requests == []


def test_send_refuses_content_that_check_content_rejects(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    with pytest.raises(PermanentError, match=r"messages\[0\]\.text is required"):
        adapter.send(envelope("U1111", messages=[{"type": "text"}]))
    assert server.requests == []


def test_concurrent_sends_from_worker_threads_all_arrive_once(
    server: LineApiServer, adapter: line.Adapter
) -> None:
    errors: list[BaseException] = []

    def send_some(worker: int) -> None:
        try:
            for n in range(10):
                adapter.send(envelope(f"U{worker}-{n}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send_some, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(a["to"] for a in server.accepted) == sorted(
        f"U{w}-{n}" for w in range(6) for n in range(10)
    )


# --- content ------------------------------------------------------------------------------


def test_check_content_accepts_every_supported_type() -> None:
    carousel = {
        "type": "flex",
        "altText": "x",
        "contents": {"type": "carousel", "contents": [BUBBLE]},
    }
    line.check_content({"messages": [TEXT, IMAGE, FLEX, carousel, STICKER]})
    local_image = dict(IMAGE, originalContentUrl="http://127.0.0.1:8000/a.jpg")
    line.check_content({"messages": [local_image]})
    line.check_content({"messages": [{"type": "text", "text": "ก" * 5000}]})


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (None, "messages is required and must be a list of 1 to 5"),
        ([], "messages must hold 1 to 5 messages, got 0"),
        ([TEXT] * 6, "messages must hold 1 to 5 messages, got 6"),
        (["hello"], r"messages\[0\] must be an object"),
        ([{"type": "video"}], r"messages\[0\]\.type must be one of text, image, flex, sticker"),
        ([TEXT, {"type": "text"}], r"messages\[1\]\.text is required for a text message"),
        (
            [{"type": "text", "text": ""}],
            r"messages\[0\]\.text must be 1 to 5000 characters, got 0",
        ),
        # An emoji is two UTF-16 code units for LINE.
        ([{"type": "text", "text": "😀" * 2501}], "must be 1 to 5000 characters, got 5002"),
        (
            [TEXT, {"type": "flex", "contents": BUBBLE}],
            r"messages\[1\]\.altText is required for a flex message",
        ),
        (
            [{"type": "flex", "altText": "x" * 1501, "contents": BUBBLE}],
            r"messages\[0\]\.altText must be at most 1500 characters, got 1501",
        ),
        (
            [{"type": "flex", "altText": "x", "contents": {"type": "box"}}],
            r"messages\[0\]\.contents is required .* type 'bubble' or 'carousel'",
        ),
        (
            [{"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": []}}],
            r"messages\[0\]\.contents\.contents must hold 1 to 12 bubbles",
        ),
        (
            [dict(IMAGE, previewImageUrl="http://cdn.sampan.test/p.jpg")],
            r"messages\[0\]\.previewImageUrl must be an https URL",
        ),
        (
            [{"type": "image", "previewImageUrl": "https://a.test/p.jpg"}],
            r"messages\[0\]\.originalContentUrl is required for an image message",
        ),
        (
            [{"type": "sticker", "packageId": "446", "stickerId": 1988}],
            r"messages\[0\]\.stickerId is required for a sticker message and must be a string",
        ),
        (
            [
                {
                    "type": "flex",
                    "altText": "x",
                    "contents": {"type": "bubble", "body": {"type": "box"}},
                }
            ],
            r"messages\[0\] is not a valid LINE flex message: .*layout",
        ),
    ],
)
def test_check_content_names_the_offending_field(messages: Any, error: str) -> None:
    content = {} if messages is None else {"messages": messages}
    with pytest.raises(ContentError, match=error):
        line.check_content(content)


# --- configuration ------------------------------------------------------------------------


def test_config_defaults_to_the_real_api_and_hides_secrets() -> None:
    config = line.Config(channel_access_token="tok", channel_secret=SECRET)
    assert config.api_base == "https://api.line.me"
    assert SECRET not in repr(config)
    assert line.KIND == "line"
    assert line.Adapter.idempotent is True
    assert line.Adapter.max_recipients == 500


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"api_base": "http://api.line.me"}, "api_base must be an https URL"),
        ({"api_base": "ftp://127.0.0.1"}, "api_base must be an https URL"),
        ({"channel_access_token": ""}, "must not be empty"),
        ({"channel_secret": "abc def"}, "must not contain spaces"),
        ({"timeout_seconds": 0}, "greater than 0"),
        ({"token": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_config_validation_gives_precise_messages(overrides: dict[str, Any], error: str) -> None:
    values: dict[str, Any] = {"channel_access_token": "tok", "channel_secret": SECRET}
    values.update(overrides)
    with pytest.raises(ValidationError, match=error):
        line.Config(**values)


def test_config_accepts_a_loopback_http_base_and_strips_the_trailing_slash() -> None:
    config = line.Config(
        channel_access_token="tok", channel_secret=SECRET, api_base="http://localhost:8190/"
    )
    assert config.api_base == "http://localhost:8190"


# --- webhook ------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


WEBHOOK_BODY = json.dumps(
    {
        "destination": "U0123456789abcdef0123456789abcdef",
        "events": [
            {
                "type": "follow",
                "mode": "active",
                "timestamp": 1732400000000,
                "source": {"type": "user", "userId": "Ufollow"},
                "webhookEventId": "01JDF0000000000000000FOLLOW",
                "deliveryContext": {"isRedelivery": False},
                "replyToken": "rt-follow",
                "follow": {"isUnblocked": False},
            },
            {
                "type": "unfollow",
                "mode": "active",
                "timestamp": 1732400001000,
                "source": {"type": "user", "userId": "Uunfollow"},
                "webhookEventId": "01JDF000000000000000UNFOLLOW",
                "deliveryContext": {"isRedelivery": False},
            },
            {
                "type": "message",
                "mode": "active",
                "timestamp": 1732400002000,
                "source": {"type": "user", "userId": "Utext"},
                "webhookEventId": "01JDF0000000000000000000TEXT",
                "deliveryContext": {"isRedelivery": False},
                "replyToken": "rt-text",
                "message": {
                    "id": "468789577898262530",
                    "type": "text",
                    "quoteToken": "q3Plxr4AgKd",
                    "text": "สนใจโปรโมชั่นครับ",
                },
            },
            {
                "type": "message",
                "mode": "active",
                "timestamp": 1732400003000,
                "source": {"type": "user", "userId": "Usticker"},
                "webhookEventId": "01JDF000000000000000STICKER",
                "deliveryContext": {"isRedelivery": False},
                "replyToken": "rt-sticker",
                "message": {
                    "id": "468789577898262531",
                    "type": "sticker",
                    "quoteToken": "yHAz4Ua2wx7",
                    "stickerId": "52002734",
                    "packageId": "11537",
                    "stickerResourceType": "STATIC",
                    "keywords": ["Happy", "Thanks"],
                },
            },
            {
                "type": "postback",
                "mode": "active",
                "timestamp": 1732400004000,
                "source": {"type": "user", "userId": "Upostback"},
                "webhookEventId": "01JDF000000000000000POSTBACK",
                "deliveryContext": {"isRedelivery": False},
                "replyToken": "rt-postback",
                "postback": {"data": "action=redeem&coupon=SUMMER50"},
            },
            {
                "type": "message",
                "mode": "active",
                "timestamp": 1732400000500,
                "source": {"type": "user", "userId": "Uredelivered"},
                "webhookEventId": "01JDF00000000000000REDELIVER",
                "deliveryContext": {"isRedelivery": True},
                "message": {"id": "468789577898262529", "type": "text", "text": "ยังอยู่ไหม"},
            },
            {
                "type": "join",
                "mode": "active",
                "timestamp": 1732400005000,
                "source": {"type": "group", "groupId": "Cgroup"},
                "webhookEventId": "01JDF0000000000000000000JOIN",
                "deliveryContext": {"isRedelivery": False},
                "replyToken": "rt-join",
            },
            {
                "type": "message",
                "mode": "active",
                "timestamp": 1732400006000,
                "source": {"type": "group", "groupId": "Cgroup"},
                "webhookEventId": "01JDF000000000000000GROUPMSG",
                "deliveryContext": {"isRedelivery": False},
                "message": {"id": "1", "type": "text", "text": "group chatter"},
            },
            {
                "type": "beacon",
                "mode": "active",
                "timestamp": 1732400007000,
                "source": {"type": "user", "userId": "Ubeacon"},
                "webhookEventId": "01JDF00000000000000000BEACON",
                "deliveryContext": {"isRedelivery": False},
                "beacon": {"hwid": "d41d8cd98f", "type": "enter"},
            },
        ],
    },
    ensure_ascii=False,
).encode()


def test_signature_computed_independently_is_accepted() -> None:
    assert line.verify_signature(SECRET, WEBHOOK_BODY, sign(SECRET, WEBHOOK_BODY)) is True


def test_tampered_body_wrong_secret_and_missing_header_are_rejected() -> None:
    signature = sign(SECRET, WEBHOOK_BODY)
    tampered = WEBHOOK_BODY.replace(b"SUMMER50", b"SUMMER99")

    assert line.verify_signature(SECRET, tampered, signature) is False
    assert line.verify_signature("another-secret", WEBHOOK_BODY, signature) is False
    assert line.verify_signature(SECRET, WEBHOOK_BODY, None) is False
    assert line.verify_signature(SECRET, WEBHOOK_BODY, "") is False
    assert line.verify_signature(SECRET, WEBHOOK_BODY, "ไม่ใช่ลายเซ็น") is False


def test_parse_webhook_keeps_user_events_of_known_kinds() -> None:
    events = line.parse_webhook(WEBHOOK_BODY)

    summary = [(e.kind, e.channel_user_id, e.text, e.postback_data, e.redelivery) for e in events]
    assert summary == [
        ("follow", "Ufollow", None, None, False),
        ("unfollow", "Uunfollow", None, None, False),
        ("message", "Utext", "สนใจโปรโมชั่นครับ", None, False),
        ("message", "Usticker", None, None, False),
        ("postback", "Upostback", None, "action=redeem&coupon=SUMMER50", False),
        ("message", "Uredelivered", "ยังอยู่ไหม", None, True),
    ]
    follow, unfollow, text, sticker, postback, redelivered = events
    assert follow == InboundEvent(
        kind="follow",
        channel_user_id="Ufollow",
        timestamp_ms=1732400000000,
        event_id="01JDF0000000000000000FOLLOW",
        reply_token="rt-follow",
        raw=follow.raw,
    )
    assert unfollow.reply_token is None
    assert text.reply_token == "rt-text"
    assert text.event_id == "01JDF0000000000000000000TEXT"
    assert sticker.raw["message"]["stickerId"] == "52002734"
    assert postback.timestamp_ms == 1732400004000
    assert redelivered.reply_token is None


def test_parse_webhook_of_the_verification_request_is_empty() -> None:
    body = b'{"destination": "U0123", "events": []}'
    assert line.parse_webhook(body) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "LINE webhook body is not JSON"),
        (b"\xff\xfe", "LINE webhook body is not JSON"),
        (b"[]", "must be an object with an 'events' list"),
        (b'{"destination": "U1"}', "must be an object with an 'events' list"),
        (b'{"events": {"type": "follow"}}', "must be an object with an 'events' list"),
        (b'{"events": ["follow"]}', r"events\[0\] must be an object"),
        (
            b'{"events": [{"type": "follow", "timestamp": 1, "source": {"userId": "U1"}}]}',
            r"events\[0\]\.webhookEventId is missing",
        ),
    ],
)
def test_parse_webhook_rejects_a_body_that_is_not_a_line_payload(body: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        line.parse_webhook(body)
