"""The official segment-analytics-python client against a live server on loopback."""

from __future__ import annotations

import time

import pytest
import segment.analytics as analytics_module
from segment.analytics import Client
from segment.analytics.request import APIError

from sampan.profiles import service as profiles
from tests.conftest import LiveServer


def wait_for_pipeline(server: LiveServer, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.workspace.runtime.db.reading() as session:
            status = profiles.pipeline_status(session)
        if status.head_seq > 0 and status.backlog == 0:
            return
        time.sleep(0.05)
    raise AssertionError("pipeline did not catch up")


def test_official_python_client_delivers_to_sampan(live_server: LiveServer) -> None:
    errors: list[Exception] = []
    client = Client(
        write_key=live_server.workspace.write_key,
        host=live_server.url,
        on_error=lambda error, _batch: errors.append(error),
        sync_mode=True,
        max_retries=0,
    )
    client.identify(
        "M900", {"name": "วิภา สุขใจ", "email": "wipa@example.co.th", "phone": "095-555-1234"}
    )
    client.track("M900", "Order Completed", {"order_id": "A1", "total": 1590, "currency": "THB"})
    client.page("M900", "Shop", "หน้าแรก", {"url": "https://shop.example.co.th/"})
    client.flush()
    assert errors == []
    wait_for_pipeline(live_server)
    ws = live_server.workspace
    profile = ws.client.get(
        "/api/profiles/lookup", params={"phone": "+66955551234"}, headers=ws.auth
    ).json()
    assert profile["display_name"] == "วิภา สุขใจ"
    assert profile["computed"]["order_count"] == 1
    assert profile["computed"]["total_spent"] == 1590.0
    assert profile["computed"]["event_count"] == 3
    assert analytics_module.VERSION  # the real library, not a stand-in


def test_official_client_reports_a_refused_write_key(live_server: LiveServer) -> None:
    client = Client(write_key="wk_not_a_key", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as info:
        client.track("u1", "Cart Viewed")
    assert info.value.status == 401
    assert info.value.code == "unauthorized"
    assert info.value.message == "invalid write key"
