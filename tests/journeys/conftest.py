"""A messaging workspace with helpers to publish journeys, send events and move time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sampan.runtime import Runtime
from tests.messaging.conftest import Kit, build_kit, messaging_settings
from tests.messaging.conftest import kit as kit  # the messaging fixture, on the real clock


@dataclass
class Journeys:
    """A Kit (loopback LINE, SMTP, SMS) plus journeys on a clock the test moves."""

    kit: Kit
    now: datetime

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.kit.api(method, path, **kwargs)

    def person(self, name: str, **kwargs: Any) -> str:
        return self.kit.person(name, **kwargs)

    def user_of(self, profile_id: str) -> str:
        found = self.api("GET", f"/api/profiles/{profile_id}")
        assert found.status_code == 200, found.text
        ids = [i for i in found.json()["identities"] if i["type"] == "user_id"]
        return str(ids[0]["value"])

    def publish(self, definition: dict[str, Any], name: str | None = None) -> str:
        body = {"name": name or f"journey {uuid.uuid4().hex[:6]}", "definition": definition}
        created = self.api("POST", "/api/journeys", json=body)
        assert created.status_code == 201, created.text
        journey_id = str(created.json()["id"])
        published = self.api("POST", f"/api/journeys/{journey_id}/publish")
        assert published.status_code == 200, published.text
        return journey_id

    def track(self, profile_id: str, event: str, **properties: Any) -> None:
        """Log an event of this person, fold it into profiles and let journeys react."""
        body = {
            "type": "track",
            "userId": self.user_of(profile_id),
            "event": event,
            "properties": properties,
            "timestamp": self.now.isoformat(),
        }
        response = self.kit.ws.client.post(
            "/v1/track", json=body, headers={"X-Write-Key": self.kit.ws.write_key}
        )
        assert response.status_code == 200, response.text
        self.settle()

    def settle(self) -> None:
        """Run pipeline, journeys and sender until nothing more happens at this moment."""
        state = self.kit.ws.state
        for _ in range(20):
            moved = state.pipeline.drain() + state.journeys.drain()
            moved += self.kit.dispatch()
            if not moved:
                return
        raise AssertionError("journeys did not settle")

    def wait(self, **delta: float) -> None:
        """Move the clock forward and let everything due happen."""
        self.at(self.now + timedelta(**delta))

    def at(self, moment: datetime) -> None:
        self.now = moment
        self.kit.at(moment)
        self.settle()

    def runs(self, journey_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.api("GET", f"/api/journeys/{journey_id}/runs", params=params)
        assert response.status_code == 200, response.text
        return list(response.json())

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/api/journeys/runs/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def metrics(self, journey_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/api/journeys/{journey_id}/metrics")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def line_texts(self, to: str | None = None) -> list[str]:
        """Return the text of every LINE message delivered (to one user id, or anyone)."""
        return [
            m["text"]
            for push in self.kit.line.accepted
            if to is None or push["to"] == to
            for m in push["messages"]
        ]


@pytest.fixture
def journeys(database_url: str, tmp_path: Path) -> Iterator[Journeys]:
    runtime = Runtime.from_settings(messaging_settings(tmp_path, database_url))
    start = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    try:
        for kit in build_kit(runtime):
            kit.at(start)
            yield Journeys(kit, start)
    finally:
        runtime.dispose()
