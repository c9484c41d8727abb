"""`sampan serve` sends in-process: a queued message goes out without anyone draining."""

from __future__ import annotations

import time

import httpx

from tests.conftest import LiveServer
from tests.messaging.conftest import LINE_SECRET, LINE_TOKEN
from tests.messaging.servers.line import LineApiServer


def test_the_embedded_worker_sends_queued_messages(live_server: LiveServer) -> None:
    ws = live_server.workspace
    with (
        LineApiServer(token=LINE_TOKEN) as line,
        httpx.Client(base_url=live_server.url, headers=ws.auth) as api,
    ):
        channel = {
            "name": "line-oa",
            "kind": "line",
            "config": {
                "channel_access_token": LINE_TOKEN,
                "channel_secret": LINE_SECRET,
                "api_base": line.url,
            },
        }
        assert api.post("/api/messaging/channels", json=channel).status_code == 201
        template = {
            "name": "shipped",
            "category": "transactional",
            "bodies": {"line": {"th": {"messages": [{"type": "text", "text": "ส่งของแล้วค่ะ"}]}}},
        }
        assert api.post("/api/messaging/templates", json=template).status_code == 201
        identify = {
            "type": "identify",
            "userId": "w-1",
            "traits": {"line_user_id": "U" + "4" * 32},
        }
        tracked = api.post("/v1/batch", json={"batch": [identify]}, auth=(ws.write_key, ""))
        assert tracked.status_code == 200
        deadline = time.monotonic() + 10
        while (
            found := api.get("/api/profiles/lookup", params={"user_id": "w-1"})
        ).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        body = {
            "profile_id": found.json()["id"],
            "template": "shipped",
            "channels": ["line-oa"],
            "idempotency_key": "order-77:shipped",
        }
        message = api.post("/api/messaging/messages", json=body).json()
        while api.get(f"/api/messaging/messages/{message['id']}").json()["status"] != "sent":
            assert time.monotonic() < deadline, "the worker did not send"
            time.sleep(0.05)
        assert len(line.accepted) == 1
