"""Sending through the outbox: channel choice, fallback, idempotency, what arrives."""

from __future__ import annotations

import orjson

from tests.messaging.conftest import Kit


def test_a_message_goes_out_on_the_first_channel_the_person_can_receive(kit: Kit) -> None:
    pid = kit.person("สมชาย", line_user_id="U" + "a" * 32, phone="0812345678", consents=("line",))
    message = kit.send(pid)
    assert message["status"] == "queued"
    assert message["channel"] == "line-oa"
    assert message["content"]["messages"][0]["text"] == "สวัสดีคุณสมชาย"
    assert kit.dispatch() == 1
    sent = kit.message(message["id"])
    assert sent["status"] == "sent"
    assert sent["provider_message_id"]
    assert [a["to"] for a in kit.line.accepted] == ["U" + "a" * 32]
    assert kit.line.requests[-1].headers["x-line-retry-key"]


def test_the_same_idempotency_key_queues_one_message(kit: Kit) -> None:
    pid = kit.person("Nok", line_user_id="U" + "b" * 32, consents=("line",))
    first = kit.send(pid, key="order-1001:shipped")
    again = kit.send(pid, key="order-1001:shipped")
    assert again["id"] == first["id"]
    kit.dispatch()
    kit.send(pid, key="order-1001:shipped")
    assert kit.dispatch() == 0
    assert len(kit.line.accepted) == 1


def test_fallback_follows_the_addresses_and_consents_the_person_has(kit: Kit) -> None:
    # No LINE id: SMS is next, but without SMS consent it falls through to e-mail.
    pid = kit.person("Mali", phone="0898765432", email="mali@example.com", consents=("email",))
    message = kit.send(pid)
    assert message["channel"] == "mail"
    assert "line-oa: no address for this person" in message["reason"]
    assert "sms-gw: no_consent" in message["reason"]
    kit.dispatch()
    [mail] = kit.smtp.messages
    assert mail.rcpt_tos == ("mali@example.com",)
    assert str(mail.message["subject"]) == "ยินดีต้อนรับคุณMali"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/preferences/" in mail.message["List-Unsubscribe"]
    # RFC 8058 one-click: the mail client POSTs to the header's URL, and the person is out.
    target = mail.message["List-Unsubscribe"].strip("<>").replace("http://127.0.0.1:8000", "")
    clicked = kit.ws.client.post(
        target,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200, clicked.text
    assert kit.send(pid, channels=["mail"])["status"] == "suppressed"
    html = mail.message.get_body(("html",)).get_content()
    assert "/t/c/" in html
    assert "/t/o/" in html
    assert "https://shop.example/welcome" not in html


def test_nobody_reachable_means_suppressed_with_every_reason(kit: Kit) -> None:
    pid = kit.person("Dao", phone="0811111111")
    message = kit.send(pid)
    assert message["status"] == "suppressed"
    assert message["channel"] is None
    assert "sms-gw: no_consent" in message["reason"]
    assert kit.dispatch() == 0
    assert kit.sms.messages == []


def test_transactional_messages_need_no_marketing_consent(kit: Kit) -> None:
    pid = kit.person("Ploy", phone="0822222222")
    message = kit.send(pid, category="transactional", channels=["sms-gw"])
    assert message["channel"] == "sms-gw"
    kit.dispatch()
    [sms] = kit.sms.messages
    assert sms["msisdn"] == "66822222222"
    assert sms["message"].startswith("สวัสดีคุณPloy ดูโปรได้ที่ http://127.0.0.1:8000/t/c/")


def test_english_speakers_get_the_english_variant(kit: Kit) -> None:
    pid = kit.person("John", line_user_id="U" + "c" * 32, locale="en-US", consents=("line",))
    message = kit.send(pid)
    assert message["language"] == "en"
    assert message["content"]["messages"][0]["text"] == "Hello John"


def test_consent_withdrawn_after_queueing_stops_the_send(kit: Kit) -> None:
    pid = kit.person("Fah", line_user_id="U" + "d" * 32, consents=("line",))
    message = kit.send(pid)
    response = kit.api(
        "POST",
        f"/api/privacy/profiles/{pid}/consents",
        json={"consents": [{"purpose": "marketing", "channel": "line", "status": "withdrawn"}]},
    )
    assert response.status_code == 201, response.text
    kit.dispatch()
    after = kit.message(message["id"])
    assert after["status"] == "suppressed"
    assert after["reason"].startswith("withdrawn")
    assert kit.line.accepted == []


def test_identical_line_messages_go_out_as_one_multicast_resent_whole(kit: Kit) -> None:
    static = {
        "name": "flash-sale",
        "bodies": {"line": {"th": {"messages": [{"type": "text", "text": "ลดทั้งร้าน 50%"}]}}},
    }
    assert kit.api("POST", "/api/messaging/templates", json=static).status_code == 201
    users = kit.crowd(5, "flash")
    ids = [
        kit.send(kit.profile_of(user), template="flash-sale", channels=["line-oa"])["id"]
        for user in users
    ]
    kit.line.fail_next(1, 500)
    kit.dispatch()
    assert {kit.message(i)["status"] for i in ids} == {"sent"}
    multicasts = [r for r in kit.line.requests if r.path == "/v2/bot/message/multicast"]
    assert len(multicasts) == 2
    assert multicasts[0].headers["x-line-retry-key"] == multicasts[1].headers["x-line-retry-key"]
    assert sorted(a["to"] for a in kit.line.accepted) == sorted(
        orjson.loads(multicasts[1].body)["to"]
    )
    assert len(kit.line.accepted) == 5


def test_a_slow_rate_limited_line_channel_is_claimed_a_quarter_lease_at_a_time(kit: Kit) -> None:
    people = [kit.profile_of(user) for user in kit.crowd(12, "slow")]
    channel = next(
        c for c in kit.api("GET", "/api/messaging/channels").json() if c["name"] == "line-oa"
    )
    body = {key: channel[key] for key in ("name", "kind", "config", "enabled")}
    changed = kit.api("PUT", "/api/messaging/channels/line-oa", json=body | {"rate_per_second": 4})
    assert changed.status_code == 200, changed.text
    # Four sends a second over a quarter of a two-second lease: two messages per claim, so
    # that two claims on the wire are sent well before their lease runs out.
    kit.rules(lease_seconds=2.0)
    for index, pid in enumerate(people):
        kit.send(pid, channels=["line-oa"], key=f"slow:{index}")
    dispatcher = kit.runtime.dispatcher()
    try:
        handled = dispatcher.drain(limit=1)
    finally:
        dispatcher.close()

    assert handled == 2
    assert len(kit.line.accepted) == 2
    assert kit.dispatch() == 10
    assert len(kit.line.accepted) == 12
