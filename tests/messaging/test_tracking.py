"""Opens, clicks, receipts and customers writing back through LINE webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from tests.messaging.conftest import LINE_SECRET, Kit

USER = "U" + "7" * 32


def _events(kit: Kit, pid: str) -> list[dict[str, Any]]:
    kit.ws.drain()
    response = kit.api("GET", f"/api/profiles/{pid}/events", params={"limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _names(kit: Kit, pid: str) -> list[str]:
    return [item["name"] for item in _events(kit, pid)]


def _line_webhook(kit: Kit, events: list[dict[str, Any]], secret: str = LINE_SECRET) -> Any:
    body = orjson.dumps({"destination": "Uoa", "events": events})
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return kit.ws.client.post(
        "/webhooks/line/line-oa",
        content=body,
        headers={"X-Line-Signature": signature.decode(), "Content-Type": "application/json"},
    )


def _line_event(kind: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1_763_900_000_000,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        **extra,
    }


def test_opens_and_clicks_are_recorded_on_the_message_and_the_profile(kit: Kit) -> None:
    pid = kit.person("Fon", email="fon@example.com", consents=("email",))
    message = kit.send(pid, channels=["mail"])
    kit.dispatch()
    html = kit.smtp.messages[0].message.get_body(("html",)).get_content()
    pixel = html.split('<img src="')[1].split('"')[0].replace("http://127.0.0.1:8000", "")
    link = html.split('href="')[1].split('"')[0].replace("http://127.0.0.1:8000", "")
    for _ in range(2):
        opened = kit.ws.client.get(pixel)
        assert opened.status_code == 200
        assert opened.headers["content-type"] == "image/gif"
    clicked = kit.ws.client.get(link, follow_redirects=False)
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://shop.example/welcome"
    after = kit.message(message["id"])
    assert after["opened_at"]
    assert after["clicked_at"]
    names = _names(kit, pid)
    assert names.count("Email Opened") == 1
    assert names.count("Link Clicked") == 1
    assert "Message Sent" in names


def test_forged_tracking_links_change_nothing(kit: Kit) -> None:
    assert kit.ws.client.get("/t/c/not-a-token", follow_redirects=False).status_code == 404
    # The pixel always answers an image so mail clients show nothing broken.
    assert kit.ws.client.get("/t/o/forged.gif").status_code == 200


def test_delivery_receipts_and_bounces_update_the_status(kit: Kit) -> None:
    pid = kit.person("Gift", phone="0833333333")
    message = kit.send(pid, category="transactional", channels=["sms-gw"])
    kit.dispatch()
    provider_id = kit.message(message["id"])["provider_message_id"]
    receipt = {"channel": "sms-gw", "provider_message_id": provider_id, "status": "delivered"}
    response = kit.api("POST", "/api/messaging/receipts", json=receipt)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "delivered"
    assert response.json()["delivered_at"]
    stranger = receipt | {"provider_message_id": "x"}
    unknown = kit.api("POST", "/api/messaging/receipts", json=stranger)
    assert unknown.status_code == 404
    assert "Message Delivered" in _names(kit, pid)


def test_line_follow_and_unfollow_change_consent(kit: Kit) -> None:
    pid = kit.person("Hong", line_user_id=USER)
    assert _line_webhook(kit, [_line_event("follow", "01F", replyToken="r1")]).status_code == 200
    kit.ws.drain()
    check = kit.api(
        "GET",
        f"/api/privacy/profiles/{pid}/can-contact",
        params={"purpose": "marketing", "channel": "line"},
    )
    assert check.json()["allowed"] is True
    assert _line_webhook(kit, [_line_event("unfollow", "01U")]).status_code == 200
    kit.ws.drain()
    check = kit.api(
        "GET",
        f"/api/privacy/profiles/{pid}/can-contact",
        params={"purpose": "marketing", "channel": "line"},
    )
    assert check.json()["allowed"] is False
    assert check.json()["reason"] == "withdrawn"
    names = _names(kit, pid)
    assert "LINE Followed" in names
    assert "LINE Unfollowed" in names


def test_a_customer_reply_is_recorded_and_its_token_used_for_the_next_send(kit: Kit) -> None:
    pid = kit.person("Ice", line_user_id=USER, consents=("line",))
    first = kit.send(pid)
    kit.dispatch()
    text = {"type": "text", "id": "m1", "text": "สนใจค่ะ ราคาเท่าไหร่"}
    reply = _line_event("message", "01M", replyToken="reply-token-1", message=text)
    kit.line.allow_reply_token("reply-token-1", USER)
    assert _line_webhook(kit, [reply]).status_code == 200
    # A redelivered webhook records nothing twice.
    assert _line_webhook(kit, [reply]).status_code == 200
    assert kit.message(first["id"])["replied_at"]
    names = _names(kit, pid)
    assert names.count("Message Received") == 1
    assert names.count("Message Replied") == 1
    second = kit.send(pid)
    kit.dispatch()
    assert kit.message(second["id"])["status"] == "sent"
    assert kit.line.requests[-1].path == "/v2/bot/message/reply"


def test_line_webhooks_with_a_bad_signature_are_refused(kit: Kit) -> None:
    response = _line_webhook(kit, [_line_event("follow", "01X")], secret="wrong-secret")
    assert response.status_code == 401
    assert "X-Line-Signature" in response.json()["detail"]
    unsigned = kit.ws.client.post("/webhooks/line/line-oa", content=b"{}")
    assert unsigned.status_code == 401
    nowhere = kit.ws.client.post("/webhooks/line/nope", content=b"{}")
    assert nowhere.status_code == 404


def test_a_failed_reply_is_not_pushed_again(kit: Kit) -> None:
    pid = kit.person("Jay", line_user_id=USER, consents=("line",))
    text = {"type": "text", "id": "m2", "text": "hello"}
    kit.line.allow_reply_token("reply-token-2", USER)
    assert (
        _line_webhook(
            kit, [_line_event("message", "02M", replyToken="reply-token-2", message=text)]
        ).status_code
        == 200
    )
    message = kit.send(pid)
    kit.line.fail_next(1, 500)
    kit.dispatch()
    after = kit.message(message["id"])
    # A reply has no retry key: it may have arrived, so it is not sent again by push.
    assert after["status"] == "failed"
    assert after["reason"].startswith("in doubt")
    assert kit.line.accepted == []


def test_a_reply_claimed_before_a_crash_is_not_pushed_after_it(kit: Kit) -> None:
    pid = kit.person("Kaew", line_user_id=USER, consents=("line",))
    text = {"type": "text", "id": "m3", "text": "hi"}
    kit.line.allow_reply_token("reply-token-3", USER)
    event = _line_event("message", "03M", replyToken="reply-token-3", message=text)
    assert _line_webhook(kit, [event]).status_code == 200
    message = kit.send(pid)
    # A sender claims the message with the reply token, then dies before sending or recording.
    dispatcher = kit.runtime.dispatcher()
    with kit.runtime.db.transaction() as session:
        [claimed] = dispatcher._claim(session, idempotent=True, plain_slots=0)
    assert claimed.reply_token == "reply-token-3"
    dispatcher.close()
    kit.at(datetime.now(UTC) + timedelta(minutes=10))
    kit.dispatch()
    after = kit.message(message["id"])
    assert after["status"] == "failed"
    assert after["reason"].startswith("in doubt")
    assert kit.line.accepted == []
