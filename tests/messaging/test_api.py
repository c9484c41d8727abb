"""The management API refuses bad input precisely and checks who may do what."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from tests.messaging.conftest import WELCOME, Kit


def _refused(kit: Kit, method: str, path: str, body: Any, status: int, needle: str) -> None:
    response = kit.api(method, path, json=body)
    assert response.status_code == status, response.text
    assert needle in response.text, response.text


def test_channel_configurations_are_checked(kit: Kit) -> None:
    path = "/api/messaging/channels"
    _refused(kit, "POST", path, {"name": "x1", "kind": "pigeon", "config": {}}, 400, "pigeon")
    _refused(
        kit,
        "POST",
        path,
        {"name": "x2", "kind": "email", "config": {"host": "smtp.example", "port": 99999}},
        400,
        "config.",
    )
    _refused(
        kit,
        "POST",
        path,
        {"name": "x3", "kind": "line", "config": {"channel_secret": "s"}},
        400,
        "config.channel_access_token",
    )
    _refused(kit, "POST", path, {"name": "Bad Name", "kind": "line", "config": {}}, 422, "name")
    _refused(
        kit,
        "POST",
        path,
        {
            "name": "line-oa",
            "kind": "line",
            "config": {"channel_access_token": "t", "channel_secret": "s"},
        },
        409,
        "exists",
    )


def test_secrets_are_masked_and_kept_when_sent_back_masked(kit: Kit) -> None:
    channels = kit.api("GET", "/api/messaging/channels").json()
    line = next(c for c in channels if c["name"] == "line-oa")
    assert line["config"]["channel_access_token"] == "**********"
    assert line["config"]["channel_secret"] == "**********"
    assert line["webhook_url"].endswith("/webhooks/line/line-oa")
    body = {k: line[k] for k in ("name", "kind", "config", "enabled")}
    response = kit.api("PUT", "/api/messaging/channels/line-oa", json=body)
    assert response.status_code == 200, response.text
    pid = kit.person("Jan", line_user_id="U" + "e" * 32, consents=("line",))
    kit.send(pid)
    kit.dispatch()
    # The stored token still authenticates: the mask did not replace it.
    assert len(kit.line.accepted) == 1


def test_webhook_header_values_are_secrets_too(kit: Kit) -> None:
    config = {
        "url": "https://callcentre.example.com/tasks",
        "secret": "s" * 20,
        "headers": {"Authorization": "Bearer very-secret-token"},
    }
    body = {"name": "callcentre", "kind": "webhook", "config": config}
    created = kit.api("POST", "/api/messaging/channels", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["config"]["headers"] == {"Authorization": "**********"}
    shown = next(
        c for c in kit.api("GET", "/api/messaging/channels").json() if c["name"] == "callcentre"
    )
    assert "very-secret-token" not in str(shown)
    # Sent back as shown, the stored value stays; a new value replaces it.
    kept = {k: shown[k] for k in ("name", "kind", "config", "enabled")}
    assert kit.api("PUT", "/api/messaging/channels/callcentre", json=kept).status_code == 200
    with kit.runtime.db.reading() as session:
        stored = session.execute(
            text("SELECT config FROM messaging_channels WHERE name = 'callcentre'")
        ).scalar_one()
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert stored["headers"] == {"Authorization": "Bearer very-secret-token"}


def test_templates_are_compiled_before_they_are_saved(kit: Kit) -> None:
    path = "/api/messaging/templates"
    broken = {
        "name": "broken",
        "bodies": {"sms": {"th": {"text": "สวัสดี {{ profile.first_name "}}},
    }
    _refused(kit, "POST", path, broken, 400, "bodies.sms.th.text: line 1")
    _refused(kit, "POST", path, {"name": "k", "bodies": {"fax": {"th": {}}}}, 400, "bodies.fax")
    _refused(kit, "POST", path, {"name": "l", "bodies": {"sms": {"fr": {}}}}, 400, "th or en")
    _refused(kit, "POST", path, WELCOME, 409, "exists")


def test_a_template_that_fails_to_render_is_never_sent(kit: Kit) -> None:
    body = {
        "name": "divides",
        "bodies": {"line": {"th": {"messages": [{"type": "text", "text": "{{ 1 / 0 }}"}]}}},
    }
    assert kit.api("POST", "/api/messaging/templates", json=body).status_code == 201
    pid = kit.person("Kai", line_user_id="U" + "f" * 32, consents=("line",))
    message = kit.send(pid, template="divides")
    assert message["status"] == "failed"
    assert "not sent: bodies.line.th.messages[0].text: ZeroDivisionError" in message["reason"]
    assert message["content"] == {}
    kit.dispatch()
    assert kit.line.accepted == []


def test_the_sandbox_refuses_to_reach_python_internals(kit: Kit) -> None:
    body = {
        "name": "escape",
        "bodies": {
            "line": {
                "th": {
                    "messages": [
                        {
                            "type": "text",
                            "text": "{{ profile.__class__.__mro__[1].__subclasses__() }}",
                        }
                    ]
                }
            }
        },
    }
    assert kit.api("POST", "/api/messaging/templates", json=body).status_code == 201
    pid = kit.person("Lek", line_user_id="U" + "9" * 32, consents=("line",))
    message = kit.send(pid, template="escape")
    assert message["status"] == "failed"
    assert "SecurityError" in message["reason"] or "UndefinedError" in message["reason"]


def test_preview_renders_for_a_person_with_fallbacks_and_sms_parts(kit: Kit) -> None:
    body = {
        "name": "cart",
        "category": "marketing",
        "bodies": {
            "sms": {
                "th": {
                    "text": "คุณ{{ profile.nickname or 'ลูกค้า' }} ลืมของในตะกร้า "
                    "{{ event.total | baht }} ใช้โค้ด {{ coupon.code }}"
                }
            }
        },
    }
    assert kit.api("POST", "/api/messaging/templates", json=body).status_code == 201
    pid = kit.person("Mint", phone="0844444444")
    response = kit.api(
        "POST",
        "/api/messaging/templates/cart/preview",
        json={
            "profile_id": pid,
            "kind": "sms",
            "event": {"total": 1290.5},
            "coupon_code": "CART10",
        },
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["content"]["text"] == "คุณลูกค้า ลืมของในตะกร้า ฿1,290.50 ใช้โค้ด CART10"
    assert preview["sms_encoding"] == "UCS-2"
    assert preview["sms_parts"] == 1
    assert preview["sms_units"] == len(preview["content"]["text"])
    missing = kit.api(
        "POST", "/api/messaging/templates/cart/preview", json={"profile_id": pid, "kind": "line"}
    )
    assert missing.status_code == 400
    assert "no content for line" in missing.text


def test_unsaved_bodies_preview_with_sms_figures_and_errors_naming_the_field(kit: Kit) -> None:
    pid = kit.person("Fah", phone="0855555555")
    path = "/api/messaging/templates/preview"

    def sms(text: str, **extra: Any) -> Any:
        body = {"profile_id": pid, "kind": "sms", "bodies": {"sms": {"th": {"text": text}}}}
        return kit.api("POST", path, json=body | extra)

    seventy = sms("ก" * 70).json()
    assert (seventy["sms_parts"], seventy["sms_encoding"], seventy["sms_units"]) == (1, "UCS-2", 70)
    seventy_one = sms("ก" * 71).json()
    assert (seventy_one["sms_parts"], seventy_one["sms_units"]) == (2, 71)
    latin = sms("{{ 'a' * 161 }}").json()
    assert (latin["sms_parts"], latin["sms_encoding"], latin["sms_units"]) == (2, "GSM-7", 161)
    named = sms("คุณ{{ profile.first_name }}").json()
    assert named["content"]["text"] == "คุณFah"
    assert named["language"] == "th"
    # A syntax error is reported as a save would report it, and nothing is rendered.
    broken = sms("สวัสดี {{ profile.first_name ")
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("bodies.sms.th.text: line 1:")
    failing = sms("{{ 1 / 0 }}")
    assert failing.status_code == 400
    assert "ZeroDivisionError" in failing.json()["detail"]
    unknown = sms("{{ profile.first_name | shout }}")
    assert unknown.status_code == 400
    assert "shout" in unknown.json()["detail"]
    other_kind = kit.api(
        "POST",
        path,
        json={"profile_id": pid, "kind": "line", "bodies": {"sms": {"th": {"text": "x"}}}},
    )
    assert other_kind.status_code == 400
    assert other_kind.json()["detail"] == "the template has no content for line"
    _refused(
        kit,
        "POST",
        path,
        {"profile_id": pid, "kind": "sms", "bodies": {"fax": {"th": {}}}},
        400,
        "bodies.fax",
    )
    _refused(
        kit,
        "POST",
        path,
        {"profile_id": "prf_nobody", "kind": "sms", "bodies": {"sms": {"th": {"text": "x"}}}},
        404,
        "prf_nobody",
    )
    # Reading is enough, as for the preview of a saved template.
    analyst = kit.ws.key_for("analyst")
    body = {"profile_id": pid, "kind": "sms", "bodies": {"sms": {"en": {"text": "Hi"}}}}
    answer = kit.api("POST", path, json=body, headers=analyst)
    assert answer.status_code == 200, answer.text
    assert answer.json()["language"] == "en"
    store = kit.ws.key_for("store_staff")
    assert kit.api("POST", path, json=body, headers=store).status_code == 403


def test_send_input_is_checked(kit: Kit) -> None:
    pid = kit.person("Nan", line_user_id="U" + "8" * 32, consents=("line",))
    base = {
        "profile_id": pid,
        "template": "welcome",
        "channels": ["line-oa"],
        "idempotency_key": "k",
    }
    path = "/api/messaging/messages"
    _refused(kit, "POST", path, base | {"channels": ["fax"]}, 400, "no channel named fax")
    _refused(kit, "POST", path, base | {"template": "nope"}, 404, "template 'nope'")
    _refused(kit, "POST", path, base | {"channels": []}, 422, "channels")
    _refused(kit, "POST", path, base | {"send_at": "2027-01-01T09:00:00"}, 400, "time zone")
    _refused(kit, "POST", path, base | {"idempotency_key": ""}, 422, "idempotency_key")
    unknown = kit.api("POST", path, json=base | {"profile_id": "prf_nobody"})
    assert unknown.json()["status"] == "suppressed"


def test_roles_decide_who_sends_and_who_configures(kit: Kit) -> None:
    marketer = kit.ws.key_for("marketer")
    analyst = kit.ws.key_for("analyst")
    store = kit.ws.key_for("store_staff")
    pid = kit.person("Oil", line_user_id="U" + "6" * 32, consents=("line",))
    body = {
        "profile_id": pid,
        "template": "welcome",
        "channels": ["line-oa"],
        "idempotency_key": "r",
    }
    assert (
        kit.api("POST", "/api/messaging/messages", json=body, headers=marketer).status_code == 200
    )
    assert kit.api("POST", "/api/messaging/messages", json=body, headers=analyst).status_code == 403
    assert kit.api("GET", "/api/messaging/messages", headers=analyst).status_code == 200
    assert kit.api("GET", "/api/messaging/messages", headers=store).status_code == 403
    channel = {"name": "m2", "kind": "email", "config": {"host": "h", "from_address": "a@b.co"}}
    refused = kit.api("POST", "/api/messaging/channels", json=channel, headers=marketer)
    assert refused.status_code == 403
    assert kit.ws.client.get("/api/messaging/channels").status_code == 401
