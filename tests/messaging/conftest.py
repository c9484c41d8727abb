"""A workspace wired to loopback providers: LINE API, SMTP server and SMS gateway."""

from __future__ import annotations

import os
import subprocess
import sys
import time as wallclock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sampan.api.app import create_app
from sampan.runtime import Runtime
from sampan.settings import QuietHours, Settings
from tests.conftest import Workspace, make_workspace
from tests.messaging.servers.line import LineApiServer
from tests.messaging.servers.sms import SmsGateway
from tests.messaging.servers.smtp import SmtpServer

LINE_TOKEN = "test-channel-access-token"
LINE_SECRET = "line-channel-secret-0123456789"


def messaging_settings(tmp_path: Path, database_url: str, **extra: Any) -> Settings:
    # Quiet hours off (start == end) unless a test turns them on: tests run at any hour.
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "quiet_hours": QuietHours(start=time(0), end=time(0)),
        "message_retry_base_seconds": 0.001,
        "message_retry_max_seconds": 0.001,
        "message_max_attempts": 4,
    }
    return Settings(**(values | extra))


@dataclass
class Kit:
    """A workspace with LINE, e-mail and SMS channels pointing at loopback servers."""

    ws: Workspace
    line: LineApiServer
    smtp: SmtpServer
    sms: SmsGateway
    template_id: str = ""

    @property
    def runtime(self) -> Runtime:
        return self.ws.runtime

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", self.ws.auth)
        return self.ws.client.request(method, path, headers=headers, **kwargs)

    def person(
        self,
        name: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        line_user_id: str | None = None,
        locale: str = "th-TH",
        consents: tuple[str, ...] = (),
        traits: dict[str, Any] | None = None,
    ) -> str:
        """Create a person with these addresses and marketing consent on these channels."""
        user_id = f"u-{name}-{uuid.uuid4().hex[:6]}"
        all_traits: dict[str, Any] = {"first_name": name, "locale": locale, **(traits or {})}
        for key, value in (("email", email), ("phone", phone), ("line_user_id", line_user_id)):
            if value is not None:
                all_traits[key] = value
        batch: list[dict[str, Any]] = [
            {
                "type": "identify",
                "userId": user_id,
                "traits": all_traits,
                "context": {"locale": locale},
            }
        ]
        if consents:
            batch.append(_granted(user_id, consents))
        self._track(batch)
        found = self.api("GET", "/api/profiles/lookup", params={"user_id": user_id})
        assert found.status_code == 200, found.text
        return str(found.json()["id"])

    def crowd(self, count: int, tag: str, consents: tuple[str, ...] = ("line",)) -> list[str]:
        """Create ``count`` people at once, tagged, with LINE ids, e-mails and consents."""
        batch: list[dict[str, Any]] = []
        users = [f"{tag}-{uuid.uuid4().hex[:8]}" for _ in range(count)]
        for index, user in enumerate(users):
            traits = {
                "first_name": f"คน{index}",
                "tag": tag,
                "line_user_id": f"U{uuid.uuid4().hex}",
                "email": f"{user}@example.com",
            }
            batch.append({"type": "identify", "userId": user, "traits": traits})
            batch.append(_granted(user, consents))
        self._track(batch)
        return users

    def _track(self, batch: list[dict[str, Any]]) -> None:
        response = self.ws.client.post(
            "/v1/batch", json={"batch": batch}, headers={"X-Write-Key": self.ws.write_key}
        )
        assert response.status_code == 200, response.text
        self.ws.drain()

    def profile_of(self, user_id: str) -> str:
        found = self.api("GET", "/api/profiles/lookup", params={"user_id": user_id})
        assert found.status_code == 200, found.text
        return str(found.json()["id"])

    def send(self, profile_id: str, *, key: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {
            "profile_id": profile_id,
            "template": "welcome",
            "channels": ["line-oa", "sms-gw", "mail"],
            "idempotency_key": key or f"test:{uuid.uuid4()}",
            **extra,
        }
        response = self.api("POST", "/api/messaging/messages", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def dispatch(self) -> int:
        """Send everything due, waiting out retries that come due within a moment."""
        sender = self.ws.state.sender
        total = int(sender.drain())
        while True:
            due = sender._sender().next_due()
            now = self.runtime.messaging_rules.clock()
            if due is None or (due - now).total_seconds() > 0.2:
                return total
            wallclock.sleep(max(0.0, (due - now).total_seconds()) + 0.001)
            total += int(sender.drain())

    def message(self, message_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/api/messaging/messages/{message_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def at(self, moment: datetime) -> None:
        """Run the sender and the API on a fixed clock from now on."""
        self.rules(clock=lambda: moment)

    def rules(self, **changes: Any) -> None:
        """Change the sending rules the API and the sender use from now on."""
        rules = replace(self.runtime.messaging_rules, **changes)
        object.__setattr__(self.runtime, "messaging_rules", rules)
        self.ws.state.messaging = replace(self.ws.state.messaging, rules=rules)
        sender = self.ws.state.sender
        sender.stop()


def _granted(user_id: str, channels: tuple[str, ...]) -> dict[str, Any]:
    """Return the event granting marketing consent on these channels."""
    consents = [{"purpose": "marketing", "channel": c, "status": "granted"} for c in channels]
    return {
        "type": "track",
        "userId": user_id,
        "event": "Consent Updated",
        "properties": {"consents": consents},
    }


WELCOME = {
    "name": "welcome",
    "category": "marketing",
    "bodies": {
        "line": {
            "th": {"messages": [{"type": "text", "text": "สวัสดีคุณ{{ profile.first_name }}"}]},
            "en": {"messages": [{"type": "text", "text": "Hello {{ profile.first_name }}"}]},
        },
        "sms": {"th": {"text": "สวัสดีคุณ{{ profile.first_name }} ดูโปรได้ที่ https://shop.example/p"}},
        "email": {
            "th": {
                "subject": "ยินดีต้อนรับคุณ{{ profile.first_name }}",
                "text": "สวัสดีคุณ{{ profile.first_name }} https://shop.example/welcome",
                "html": "<p>สวัสดีคุณ{{ profile.first_name }}</p>"
                '<a href="https://shop.example/welcome">ช้อปเลย</a>',
            },
            "en": {
                "subject": "Welcome {{ profile.first_name }}",
                "text": "Hello {{ profile.first_name }} https://shop.example/welcome",
            },
        },
    },
}


def build_kit(runtime: Runtime) -> Iterator[Kit]:
    api_key, write_key, source_id = make_workspace(runtime)
    with (
        LineApiServer(token=LINE_TOKEN) as line,
        SmtpServer() as smtp,
        SmsGateway(auth={"type": "bearer", "token": "sms-token"}) as sms,
        TestClient(create_app(runtime, run_worker=False)) as client,
    ):
        kit = Kit(Workspace(client, runtime, api_key, write_key, source_id), line, smtp, sms)
        channels = [
            {
                "name": "line-oa",
                "kind": "line",
                "config": {
                    "channel_access_token": LINE_TOKEN,
                    "channel_secret": LINE_SECRET,
                    "api_base": line.url,
                },
            },
            {
                "name": "sms-gw",
                "kind": "sms",
                "config": {
                    "url": sms.url,
                    "auth": {"type": "bearer", "token": "sms-token"},
                    "sender": "SAMPAN",
                },
            },
            {
                "name": "mail",
                "kind": "email",
                "config": {
                    "host": smtp.host,
                    "port": smtp.port,
                    "security": "none",
                    "from_address": "shop@sampan.example",
                    "from_name": "ร้านสำเภา",
                },
            },
        ]
        for channel in channels:
            response = kit.api("POST", "/api/messaging/channels", json=channel)
            assert response.status_code == 201, response.text
        response = kit.api("POST", "/api/messaging/templates", json=WELCOME)
        assert response.status_code == 201, response.text
        kit.template_id = response.json()["id"]
        yield kit
        client.app.app.state.sender.stop()  # type: ignore[attr-defined]


@pytest.fixture
def kit(database_url: str, tmp_path: Path) -> Iterator[Kit]:
    runtime = Runtime.from_settings(messaging_settings(tmp_path, database_url))
    try:
        yield from build_kit(runtime)
    finally:
        runtime.dispose()


def start_process(
    kit: Kit, tmp_path: Path, module: str, ready: str, **settings: str
) -> subprocess.Popen[str]:
    """Start ``python -m module`` on the kit's database; return it once it printed ``ready``.

    Quiet hours are off and leases last a second, so a crash test need not wait long.
    """
    env = os.environ | {
        "SAMPAN_DATABASE_URL": kit.runtime.settings.resolved_database_url(),
        "SAMPAN_DATA_DIR": str(tmp_path),
        "SAMPAN_QUIET_HOURS": '{"start": "00:00", "end": "00:00"}',
        "SAMPAN_MESSAGE_LEASE_SECONDS": "1",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", module], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == ready
    return process
