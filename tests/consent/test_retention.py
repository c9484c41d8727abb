"""Retention: each class of data is removed after its period, on schedule, and reported."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sampan.access.schemas import SYSTEM
from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.core.clock import system_clock, to_ms
from sampan.core.errors import InvalidInput
from sampan.runtime import Runtime
from sampan.settings import Settings
from sampan.worker import RetentionSchedule
from tests.conftest import Workspace
from tests.consent.helpers import profile_id, role_auth, send
from tests.factories import identify, message


def _log_old(ws: Workspace, days_ago: int, *messages: dict) -> None:
    """Log events as if received ``days_ago`` days ago."""
    received = system_clock() - timedelta(days=days_ago)
    accepted = collect.normalise_messages(
        {"batch": list(messages)}, endpoint_type=None, source_kind="web", received_at=received
    )
    with ws.runtime.db.transaction() as session:
        collect.store_messages(
            session, source_id=ws.source_id, messages=accepted, received_ms=to_ms(received)
        )
    ws.drain()


def test_raw_events_past_their_period_go_and_profiles_keep_what_they_learnt(
    workspace: Workspace,
) -> None:
    _log_old(
        workspace,
        800,
        identify("R1", email="old@example.com"),
        message(userId="R1", event="Order Completed", properties={"order_id": "o1", "total": 500}),
    )
    send(workspace, message(userId="R1", event="Product Viewed"))
    response = workspace.client.post("/api/privacy/retention/run", headers=workspace.auth)
    assert response.status_code == 200
    assert response.json()["removed"] == {"raw_events": 2, "inactive_profiles": 0, "messages": 0}
    with workspace.runtime.db.reading() as session:
        assert collect.count_events(session) == 1
    pid = profile_id(workspace, email="old@example.com")
    profile = workspace.client.get(f"/api/profiles/{pid}", headers=workspace.auth).json()
    assert profile["computed"]["order_count"] == 1
    report = workspace.client.get("/api/privacy/retention", headers=workspace.auth).json()
    assert {r["name"]: r["days"] for r in report["rules"]} == {
        "raw_events": 730,
        "inactive_profiles": 1095,
        "messages": 365,
    }
    assert report["runs"][0]["removed"]["raw_events"] == 2


def test_profiles_inactive_past_their_period_are_anonymised(workspace: Workspace) -> None:
    _log_old(
        workspace,
        1200,
        identify("R2", email="gone@example.com") | {"timestamp": _iso_days_ago(1200)},
    )
    send(workspace, identify("R3", email="here@example.com"))
    old = profile_id(workspace, email="gone@example.com")
    with workspace.runtime.db.transaction() as session:
        run = consent.enforce_retention(
            session,
            registry=workspace.runtime.registry,
            days={"raw_events": 0, "inactive_profiles": 1095},
            actor=SYSTEM,
        )
    assert run.removed == {"inactive_profiles": 1, "messages": 0}
    assert workspace.client.get(f"/api/profiles/{old}", headers=workspace.auth).status_code == 404
    assert profile_id(workspace, email="here@example.com")
    lookup = workspace.client.get(
        "/api/profiles/lookup", params={"email": "gone@example.com"}, headers=workspace.auth
    )
    assert lookup.status_code == 404


def test_the_schedule_runs_once_per_interval(workspace: Workspace) -> None:
    schedule = RetentionSchedule(workspace.runtime)
    assert schedule.run_if_due() is not None
    assert schedule.run_if_due() is None


def test_a_misspelt_retention_class_stops_the_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, retention_days={"raw_event": 30})
    with pytest.raises(InvalidInput, match="unknown classes raw_event"):
        Runtime.from_settings(settings)


def test_retention_needs_its_permission(workspace: Workspace) -> None:
    auth = role_auth(workspace, "marketer")
    assert workspace.client.post("/api/privacy/retention/run", headers=auth).status_code == 403
    assert workspace.client.get("/api/privacy/retention", headers=auth).status_code == 403


def _iso_days_ago(days: int) -> str:
    return (system_clock() - timedelta(days=days)).isoformat()
