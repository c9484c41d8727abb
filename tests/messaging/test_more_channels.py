"""Messenger, Web Push and outgoing webhooks end to end, and the person's data in messaging."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from typing import Any

import orjson

from sampan.messaging.channels.push import generate_vapid_keys
from tests.messaging.conftest import Kit
from tests.messaging.servers.facebook import GraphApi
from tests.messaging.servers.push import PushService
from tests.messaging.servers.webhook import WebhookReceiver

PAGE_TOKEN = "page-token-0123456789"
APP_SECRET = "app-secret-0123456789"
HOOK_SECRET = "call-centre-secret-0123"


def _channel(kit: Kit, body: dict[str, Any]) -> None:
    response = kit.api("POST", "/api/messaging/channels", json=body)
    assert response.status_code == 201, response.text


def _template(kit: Kit, name: str, bodies: dict[str, Any], category: str = "marketing") -> None:
    body = {"name": name, "category": category, "bodies": bodies}
    response = kit.api("POST", "/api/messaging/templates", json=body)
    assert response.status_code == 201, response.text


def test_messenger_sends_and_its_webhook_records_messages(kit: Kit) -> None:
    psid = "6543210987654321"
    with GraphApi(page_access_token=PAGE_TOKEN, app_secret=APP_SECRET) as graph:
        config = {
            "page_access_token": PAGE_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
            "graph_base": graph.url,
        }
        _channel(kit, {"name": "fb-page", "kind": "facebook", "config": config})
        _template(
            kit,
            "fb-hello",
            {"facebook": {"th": {"message": {"text": "สวัสดีคุณ{{ profile.first_name }}"}}}},
            "transactional",
        )
        pid = kit.person("Pim", traits={"facebook_psid": psid})
        message = kit.send(pid, template="fb-hello", channels=["fb-page"])
        kit.dispatch()
        assert kit.message(message["id"])["status"] == "sent"
        [sent] = graph.messages
        assert sent["recipient"] == {"id": psid}
        assert sent["message"]["text"] == "สวัสดีคุณPim"

    handshake = kit.ws.client.get(
        "/webhooks/facebook/fb-page",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"},
    )
    assert handshake.status_code == 200
    assert handshake.text == "42"
    wrong = kit.ws.client.get(
        "/webhooks/facebook/fb-page",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"},
    )
    assert wrong.status_code == 401
    body = orjson.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "page-1",
                    "time": 1_763_900_000_000,
                    "messaging": [
                        {
                            "sender": {"id": psid},
                            "recipient": {"id": "page-1"},
                            "timestamp": 1_763_900_000_000,
                            "message": {"mid": "m_1", "text": "ขอบคุณค่ะ"},
                        }
                    ],
                }
            ],
        }
    )
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = kit.ws.client.post(
        "/webhooks/facebook/fb-page", content=body, headers={"X-Hub-Signature-256": signature}
    )
    assert response.status_code == 200, response.text
    forged = kit.ws.client.post(
        "/webhooks/facebook/fb-page", content=body, headers={"X-Hub-Signature-256": "sha256=00"}
    )
    assert forged.status_code == 401
    kit.ws.drain()
    events = kit.api("GET", f"/api/profiles/{pid}/events", params={"limit": 50}).json()["items"]
    names = [e["name"] for e in events]
    assert "Message Received" in names
    assert "Message Replied" in names
    assert kit.message(message["id"])["replied_at"]


def test_web_push_reaches_the_browser_and_a_gone_subscription_is_dropped(kit: Kit) -> None:
    private, public = generate_vapid_keys()
    with PushService() as service:
        config = {
            "vapid_private_key": private,
            "vapid_public_key": public,
            "vapid_subject": "mailto:ops@sampan.example",
            "allow_http_endpoints": True,
        }
        _channel(kit, {"name": "web-push", "kind": "push", "config": config})
        _template(
            kit,
            "push-sale",
            {"push": {"th": {"title": "ลดราคา", "body": "คุณ{{ profile.first_name }} มีโค้ดใหม่"}}},
        )
        pid = kit.person("Rin", consents=("push",))
        browser = service.subscribe(public)
        subscription = json.loads(browser.json)
        response = kit.api(
            "POST",
            "/api/messaging/push-subscriptions",
            json={"profile_id": pid, **{k: subscription[k] for k in ("endpoint", "keys")}},
        )
        assert response.status_code == 201, response.text
        first = kit.send(pid, template="push-sale", channels=["web-push"])
        kit.dispatch()
        assert kit.message(first["id"])["status"] == "sent"
        [push] = service.received
        assert json.loads(push.payload)["body"] == "คุณRin มีโค้ดใหม่"
        service.unsubscribe(browser)
        second = kit.send(pid, template="push-sale", channels=["web-push"])
        kit.dispatch()
        assert kit.message(second["id"])["status"] == "failed"
        third = kit.send(pid, template="push-sale", channels=["web-push"])
        assert third["status"] == "suppressed"
        assert "no address" in third["reason"]


def test_outgoing_webhooks_are_signed_and_delivered_once(kit: Kit) -> None:
    with WebhookReceiver(secret=HOOK_SECRET) as receiver:
        config = {"url": receiver.url, "secret": HOOK_SECRET}
        _channel(kit, {"name": "call-centre", "kind": "webhook", "config": config})
        _template(
            kit,
            "call-task",
            {
                "webhook": {
                    "th": {
                        "payload": {
                            "task": "โทรหาลูกค้า VIP",
                            "customer": "{{ profile.first_name }}",
                            "text": "https://crm.example/customers/{{ message.id }}",
                        }
                    }
                }
            },
            "transactional",
        )
        pid = kit.person("Som")
        receiver.fail_next(1, 503)
        message = kit.send(pid, template="call-task", channels=["call-centre"])
        kit.dispatch()
        assert kit.message(message["id"])["status"] == "sent"
        [delivery] = receiver.accepted
        assert delivery["payload"] == {
            "task": "โทรหาลูกค้า VIP",
            "customer": "Som",
            # A system reads the payload: its links are not wrapped for click tracking.
            "text": f"https://crm.example/customers/{message['id']}",
        }
        assert delivery["to"] == [pid]
        assert receiver.refused == []


def test_a_persons_messages_are_exported_and_erased_with_them(kit: Kit) -> None:
    pid = kit.person("Tan", line_user_id="U" + "0" * 31 + "1", consents=("line",))
    kit.send(pid)
    kit.dispatch()
    response = kit.api("GET", f"/api/privacy/profiles/{pid}/export")
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    [message] = json.loads(archive.read("messages.json"))
    assert message["content"]["messages"][0]["text"] == "สวัสดีคุณTan"
    response = kit.api("POST", f"/api/privacy/profiles/{pid}/erase", json={})
    assert response.status_code in (200, 201), response.text
    listed = kit.api("GET", "/api/messaging/messages", params={"profile_id": pid}).json()
    assert listed == []
