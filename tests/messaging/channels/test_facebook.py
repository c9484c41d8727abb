from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from sampan.messaging.channels import facebook
from sampan.messaging.channels.base import (
    ContentError,
    Envelope,
    InboundEvent,
    PermanentError,
    TransientError,
)
from tests.messaging.servers import free_port
from tests.messaging.servers.facebook import GraphApi

TOKEN = "EAAB-page-token"
APP_SECRET = "app-secret-0123456789"
PSID = "24681357902468135"
THAI = "สวัสดีค่ะ คุณสมชาย คำสั่งซื้อ #1024 จัดส่งแล้ว"


def envelope(
    message: dict[str, Any] | None = None, *, category: str = "marketing", to: str = PSID
) -> Envelope:
    return Envelope(
        message_id="msg-1",
        retry_key="retry-1",
        to=(to,),
        content={"message": message or {"text": THAI}},
        category=category,
    )


@pytest.fixture(scope="module")
def shared_graph() -> Iterator[GraphApi]:
    with GraphApi(page_access_token=TOKEN, app_secret=APP_SECRET, known_psids={PSID}) as server:
        yield server


@pytest.fixture
def graph(shared_graph: GraphApi) -> GraphApi:
    shared_graph.reset()
    return shared_graph


def config_for(graph: GraphApi, **overrides: Any) -> facebook.Config:
    values: dict[str, Any] = {
        "page_access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": "verify-me",
        "graph_base": graph.url,
        "timeout_seconds": 5,
    }
    values.update(overrides)
    return facebook.Config(**values)


@pytest.fixture
def adapter(graph: GraphApi) -> Iterator[facebook.Adapter]:
    channel = facebook.Adapter(config_for(graph))
    yield channel
    channel.close()


# Sending ----------------------------------------------------------------------------------


def test_marketing_goes_out_as_update_with_token_and_proof(
    graph: GraphApi, adapter: facebook.Adapter
) -> None:
    delivery = adapter.send(envelope())

    assert graph.messages == [
        {"recipient": {"id": PSID}, "messaging_type": "UPDATE", "message": {"text": THAI}}
    ]
    request = graph.server.requests[0]
    assert request.path == "/v26.0/me/messages"
    proof = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert f"appsecret_proof={proof}" in request.query
    assert delivery.provider_message_id == "m_00000001"
    assert delivery.units == 1


def test_transactional_goes_out_with_a_message_tag(
    graph: GraphApi, adapter: facebook.Adapter
) -> None:
    attachment = {"type": "image", "payload": {"url": "https://cdn.example/receipt.png"}}
    adapter.send(envelope({"attachment": attachment}, category="transactional"))
    assert graph.messages == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "MESSAGE_TAG",
            "tag": "POST_PURCHASE_UPDATE",
            "message": {"attachment": attachment},
        }
    ]


def test_configured_tag_is_used(graph: GraphApi) -> None:
    channel = facebook.Adapter(config_for(graph, transactional_tag="ACCOUNT_UPDATE"))
    channel.send(envelope(category="transactional"))
    channel.close()
    assert graph.messages[0]["tag"] == "ACCOUNT_UPDATE"


def test_wrong_app_secret_is_refused_by_graph(graph: GraphApi) -> None:
    channel = facebook.Adapter(config_for(graph, app_secret="another-secret"))
    with pytest.raises(PermanentError, match="Graph API error 100 .*Invalid appsecret_proof"):
        channel.send(envelope())
    channel.close()
    assert graph.messages == []


def test_wrong_token_is_permanent_and_keeps_meta_words(graph: GraphApi) -> None:
    channel = facebook.Adapter(config_for(graph, page_access_token="expired"))
    with pytest.raises(PermanentError) as excinfo:
        channel.send(envelope())
    channel.close()
    assert excinfo.value.status == 400
    assert excinfo.value.message == (
        "Graph API error 190 (OAuthException, HTTP 400): "
        "Invalid OAuth access token - Cannot parse access token [fbtrace_id Trace0001]"
    )


def test_unknown_psid_is_permanent_with_subcode(graph: GraphApi, adapter: facebook.Adapter) -> None:
    with pytest.raises(PermanentError, match=r"error 100/2018001 .*No matching user found"):
        adapter.send(envelope(to="1111"))


@pytest.mark.parametrize("code", [1, 2, 4, 17, 32, 613])
def test_rate_limit_and_temporary_codes_are_transient(
    graph: GraphApi, adapter: facebook.Adapter, code: int
) -> None:
    graph.fail_next(1, 400, code=code, message="(#4) Application request limit reached")
    with pytest.raises(TransientError, match=f"Graph API error {code} ") as excinfo:
        adapter.send(envelope())
    assert excinfo.value.status == 400
    assert graph.messages == []


@pytest.mark.parametrize(
    ("code", "subcode", "message"),
    [
        (10, 2018278, "(#10) This message is sent outside of allowed window."),
        (100, None, "(#100) Invalid parameter"),
        (200, None, "(#200) Requires pages_messaging permission"),
        (551, 1545041, "(#551) This person isn't available right now."),
    ],
)
def test_other_codes_are_permanent(
    graph: GraphApi, adapter: facebook.Adapter, code: int, subcode: int | None, message: str
) -> None:
    graph.fail_next(1, 400, code=code, subcode=subcode, message=message)
    with pytest.raises(PermanentError) as excinfo:
        adapter.send(envelope())
    assert f"error {code}" in excinfo.value.message
    assert message in excinfo.value.message


def test_is_transient_flag_makes_an_error_transient(
    graph: GraphApi, adapter: facebook.Adapter
) -> None:
    graph.fail_next(1, 400, code=100, message="temporarily unavailable", is_transient=True)
    with pytest.raises(TransientError, match="temporarily unavailable"):
        adapter.send(envelope())


def test_429_with_retry_after_is_transient(graph: GraphApi, adapter: facebook.Adapter) -> None:
    graph.fail_next(1, 429, code=100, message="slow down", retry_after="30")
    with pytest.raises(TransientError, match="slow down") as excinfo:
        adapter.send(envelope())
    assert (excinfo.value.status, excinfo.value.retry_after) == (429, 30.0)


def test_5xx_is_transient_whatever_the_code(graph: GraphApi, adapter: facebook.Adapter) -> None:
    graph.fail_next(1, 500, code=100, message="Internal error")
    with pytest.raises(TransientError, match=r"HTTP 500\): Internal error") as excinfo:
        adapter.send(envelope())
    assert excinfo.value.status == 500


def test_connection_refused_is_transient() -> None:
    config = facebook.Config(
        page_access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="v",
        graph_base=f"http://127.0.0.1:{free_port()}",
    )
    channel = facebook.Adapter(config)
    with pytest.raises(TransientError, match="Graph API unreachable: ConnectError"):
        channel.send(envelope())
    channel.close()


def test_bad_content_is_refused_before_any_request(
    graph: GraphApi, adapter: facebook.Adapter
) -> None:
    with pytest.raises(PermanentError, match="2001 characters"):
        adapter.send(envelope({"text": "ก" * 2001}))
    assert graph.server.requests == []


# check_content ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"text": "hi"}, "content has unknown field 'text': expected only 'message'"),
        ({"message": "hi"}, "content['message'] must be an object"),
        ({"message": {}}, "needs exactly one of 'text' and 'attachment'"),
        ({"message": {"text": "a", "attachment": {}}}, "needs exactly one of"),
        ({"message": {"text": ""}}, "content['message']['text'] must be a non-empty string"),
        ({"message": {"text": "ก" * 2001}}, "has 2001 characters; Messenger allows 2000"),
        ({"message": {"text": "a", "sticker": 1}}, "unknown field 'sticker'"),
        ({"message": {"attachment": {"type": "gif", "payload": {}}}}, "['type'] is 'gif'"),
        ({"message": {"attachment": {"type": "image"}}}, "['payload'] must be an object"),
        (
            {"message": {"attachment": {"type": "image", "payload": {}}}},
            "needs 'url' or 'attachment_id'",
        ),
        (
            {"message": {"attachment": {"type": "template", "payload": {}}}},
            "['template_type'] is missing",
        ),
        ({"message": {"text": "a", "quick_replies": [{}] * 14}}, "at most 13"),
        ({"message": {"text": "a", "metadata": "x" * 1001}}, "at most 1000 characters"),
    ],
)
def test_check_content_names_the_field(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ContentError) as excinfo:
        facebook.check_content(content)
    assert message in str(excinfo.value)


def test_check_content_accepts_text_at_the_limit_and_templates() -> None:
    facebook.check_content({"message": {"text": "ก" * 2000}})
    template = {"template_type": "button", "text": "ยืนยัน", "buttons": []}
    facebook.check_content(
        {"message": {"attachment": {"type": "template", "payload": template}, "metadata": "m"}}
    )


def test_config_refuses_with_precise_messages() -> None:
    with pytest.raises(ValidationError, match="api_version '21' must look like 'v26.0'"):
        facebook.Config(page_access_token="t", app_secret="s", verify_token="v", api_version="21")
    with pytest.raises(ValidationError, match="must not be empty"):
        facebook.Config(page_access_token=" ", app_secret="s", verify_token="v")
    with pytest.raises(ValidationError, match="graph_base 'graph.facebook.com' must be"):
        facebook.Config(
            page_access_token="t", app_secret="s", verify_token="v", graph_base="graph.facebook.com"
        )
    config = facebook.Config(page_access_token="t", app_secret="s", verify_token="v")
    assert (config.graph_base, config.api_version) == ("https://graph.facebook.com", "v26.0")


# Webhook helpers --------------------------------------------------------------------------


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_accepts_the_right_secret() -> None:
    body = b'{"object":"page","entry":[]}'
    assert facebook.verify_signature(APP_SECRET, body, signed(body)) is True


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=" + hmac.new(APP_SECRET.encode(), b"{}", hashlib.sha1).hexdigest(),
        "sha256=deadbeef",
        signed(b'{"object":"page","entry":[]}', "wrong-secret"),
        signed(b'{"object":"page","entry":[1]}'),
    ],
)
def test_signature_refuses_missing_wrong_or_tampered(header: str | None) -> None:
    assert facebook.verify_signature(APP_SECRET, b'{"object":"page","entry":[]}', header) is False


def test_subscription_handshake_returns_the_challenge_only_when_right() -> None:
    assert facebook.verify_subscription("subscribe", "verify-me", "1158201444", "verify-me") == (
        "1158201444"
    )
    assert facebook.verify_subscription("subscribe", "wrong", "1158201444", "verify-me") is None
    assert facebook.verify_subscription("unsubscribe", "verify-me", "1", "verify-me") is None
    assert facebook.verify_subscription(None, None, None, "verify-me") is None
    assert facebook.verify_subscription("subscribe", "verify-me", None, "verify-me") is None


def webhook_body(*items: dict[str, Any], object_: str = "page") -> bytes:
    entry = {"id": "PAGE_ID", "time": 1700000000000, "messaging": list(items)}
    return json.dumps({"object": object_, "entry": [entry]}).encode()


def base_item(**extra: Any) -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1700000000123} | (
        extra
    )


def test_parse_webhook_reads_messages_postbacks_deliveries_and_reads() -> None:
    body = webhook_body(
        base_item(message={"mid": "m_1", "text": THAI}),
        base_item(message={"mid": "m_2", "text": "ใช่", "quick_reply": {"payload": "YES"}}),
        base_item(message={"mid": "m_echo", "text": "from page", "is_echo": True}),
        base_item(postback={"mid": "m_3", "title": "สั่งซื้อ", "payload": "ORDER_1024"}),
        base_item(delivery={"mids": ["m_9"], "watermark": 1700000000000}),
        base_item(read={"watermark": 1700000000000}),
        base_item(reaction={"mid": "m_1", "action": "react", "reaction": "love"}),
    )
    events = facebook.parse_webhook(body)
    kinds = [(e.kind, e.text, e.postback_data) for e in events]
    assert kinds == [
        ("message", THAI, None),
        ("message", "ใช่", "YES"),
        ("postback", "สั่งซื้อ", "ORDER_1024"),
        ("delivery", None, None),
        ("read", None, None),
    ]
    assert [e.event_id for e in events[:3]] == ["m_1", "m_2", "m_3"]
    assert all(e.channel_user_id == PSID and e.timestamp_ms == 1700000000123 for e in events)
    assert events[3].event_id.startswith("delivery:")
    assert events[4].event_id.startswith("read:")
    assert events[0].raw["message"]["mid"] == "m_1"


def test_delivery_and_read_ids_are_stable_across_redelivery() -> None:
    item = base_item(read={"watermark": 1700000000000})
    first = facebook.parse_webhook(webhook_body(item))
    again = facebook.parse_webhook(webhook_body(item))
    later = facebook.parse_webhook(webhook_body(base_item(read={"watermark": 1700000009999})))
    assert first[0].event_id == again[0].event_id
    assert first[0].event_id != later[0].event_id


def test_postback_without_mid_gets_a_stable_id() -> None:
    item = base_item(postback={"title": "เริ่ม", "payload": "GET_STARTED"})
    (event,) = facebook.parse_webhook(webhook_body(item))
    assert event == InboundEvent(
        kind="postback",
        channel_user_id=PSID,
        timestamp_ms=1700000000123,
        event_id=facebook.parse_webhook(webhook_body(item))[0].event_id,
        text="เริ่ม",
        postback_data="GET_STARTED",
        raw=item,
    )
    assert event.event_id.startswith("postback:")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "Messenger webhook body is not JSON"),
        (b"[]", "must be a JSON object"),
        (webhook_body(object_="instagram"), "object is 'instagram', expected 'page'"),
        (b'{"object": "page"}', "has no 'entry' list"),
        (webhook_body({"timestamp": 1}), "entry[0].messaging[0].sender.id is missing"),
        (webhook_body(base_item(timestamp="x")), "timestamp must be milliseconds"),
        (webhook_body(base_item(message={"text": "x"})), "entry[0].messaging[0].message.mid"),
    ],
)
def test_parse_webhook_refuses_other_payloads_precisely(body: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        facebook.parse_webhook(body)


def test_adapter_is_not_idempotent_and_sends_to_one_psid() -> None:
    assert (facebook.KIND, facebook.Adapter.idempotent, facebook.Adapter.max_recipients) == (
        "facebook",
        False,
        1,
    )
