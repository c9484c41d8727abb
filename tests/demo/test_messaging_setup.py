"""The demo's messaging set-up: channels switched off, Thai templates, a draft campaign."""

from __future__ import annotations

from sampan.demo.messaging import install_messaging
from sampan.segments import service as segments
from tests.conftest import LiveServer


def test_the_demo_installs_messaging_that_cannot_send(live_server: LiveServer) -> None:
    ws = live_server.workspace
    with ws.runtime.db.transaction() as session:
        segments.install_ready_made(session, context=ws.runtime.segment_context())
    created = install_messaging(base_url=live_server.url, api_key=ws.api_key)
    assert created == 7
    channels = ws.client.get("/api/messaging/channels", headers=ws.auth).json()
    assert {c["name"]: c["enabled"] for c in channels} == {
        "email": False,
        "line-oa": False,
        "sms": False,
    }
    [campaign] = ws.client.get("/api/messaging/campaigns", headers=ws.auth).json()
    assert campaign["status"] == "draft"
    assert campaign["name"] == "VIP ปีใหม่ 2027"
    templates = {
        t["name"] for t in ws.client.get("/api/messaging/templates", headers=ws.auth).json()
    }
    assert templates == {"welcome", "cart-reminder", "delivery-update"}
    # Installing twice adds nothing twice.
    assert install_messaging(base_url=live_server.url, api_key=ws.api_key) == 0
