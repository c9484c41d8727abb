"""The Segment-compatible tracking API against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import gzip
from concurrent.futures import Future

import orjson
import pytest

from sampan.collect import service as collect
from tests.conftest import Workspace
from tests.factories import identify, message


def basic(write_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def stored(ws: Workspace) -> list[collect.CollectedEvent]:
    with ws.runtime.db.reading() as session:
        return collect.read_events_after(session, after_seq=0, limit=10_000)


def test_batch_is_stored_durably_with_server_fields(workspace: Workspace) -> None:
    batch = [identify("u1", email="a@example.co.th"), message(userId="u1", event="Order Completed")]
    response = workspace.client.post(
        "/v1/batch", json={"batch": batch}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    events = stored(workspace)
    assert [(e.type, e.name, e.user_id, e.channel) for e in events] == [
        ("identify", None, "u1", "web"),
        ("track", "Order Completed", "u1", "web"),
    ]
    assert all(e.source_id == workspace.source_id for e in events)
    assert "receivedAt" in events[0].message


@pytest.mark.parametrize("how", ["basic", "header", "body"])
def test_write_key_is_accepted_in_each_documented_place(workspace: Workspace, how: str) -> None:
    payload: dict[str, object] = {"batch": [message()]}
    headers = {}
    if how == "basic":
        headers = basic(workspace.write_key)
    elif how == "header":
        headers = {"X-Write-Key": workspace.write_key}
    else:
        payload["writeKey"] = workspace.write_key
    response = workspace.client.post("/v1/batch", json=payload, headers=headers)
    assert response.status_code == 200
    assert len(stored(workspace)) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "write key required"),
        ({"X-Write-Key": "wk_nope"}, "invalid write key"),
        ({"Authorization": "Basic !!!"}, "write key required"),
    ],
)
def test_missing_or_invalid_write_key_is_401_and_stores_nothing(
    workspace: Workspace, headers: dict[str, str], expected: str
) -> None:
    response = workspace.client.post("/v1/batch", json={"batch": [message()]}, headers=headers)
    assert response.status_code == 401
    assert expected in response.json()["message"]
    assert stored(workspace) == []


def test_disabled_source_key_is_refused_at_once(workspace: Workspace) -> None:
    response = workspace.client.patch(
        f"/api/sources/{workspace.source_id}", json={"enabled": False}, headers=workspace.auth
    )
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    refused = workspace.client.post("/v1/track", json=message(), headers=basic(workspace.write_key))
    assert refused.status_code == 401
    assert "disabled" in refused.json()["message"]
    assert stored(workspace) == []


def test_invalid_json_is_400_and_stores_nothing(workspace: Workspace) -> None:
    response = workspace.client.post(
        "/v1/batch", content=b'{"batch": [', headers=basic(workspace.write_key)
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("invalid JSON")
    assert stored(workspace) == []


def test_one_bad_message_rejects_the_whole_batch(workspace: Workspace) -> None:
    bad = message()
    del bad["anonymousId"]
    response = workspace.client.post(
        "/v1/batch", json={"batch": [message(), bad]}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 400
    assert response.json()["message"] == "batch[1]: 'userId' or 'anonymousId' is required"
    assert stored(workspace) == []


def test_over_size_request_is_413_and_stores_nothing(workspace: Workspace) -> None:
    batch = [message(properties={"pad": "x" * 20_000}) for _ in range(30)]
    response = workspace.client.post(
        "/v1/batch", json={"batch": batch}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 413
    assert "500 KB" in response.json()["message"]
    assert stored(workspace) == []


def test_gzip_body_is_accepted(workspace: Workspace) -> None:
    body = gzip.compress(orjson.dumps({"batch": [message(), message()]}))
    headers = {
        **basic(workspace.write_key),
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    response = workspace.client.post("/v1/batch", content=body, headers=headers)
    assert response.status_code == 200
    assert len(stored(workspace)) == 2


def test_corrupt_gzip_is_400(workspace: Workspace) -> None:
    headers = {**basic(workspace.write_key), "Content-Encoding": "gzip"}
    response = workspace.client.post("/v1/batch", content=b"not gzip", headers=headers)
    assert response.status_code == 400
    assert stored(workspace) == []


def test_same_message_id_from_same_source_is_stored_once(workspace: Workspace) -> None:
    item = message(messageId="retry-1")
    for _ in range(3):
        response = workspace.client.post(
            "/v1/batch", json={"batch": [item, item]}, headers=basic(workspace.write_key)
        )
        assert response.status_code == 200
    other_key = workspace.new_source("app")
    workspace.client.post("/v1/batch", json={"batch": [item]}, headers=basic(other_key))
    assert [e.message_id for e in stored(workspace)] == ["retry-1", "retry-1"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/track", {"userId": "u1", "event": "Cart Viewed"}),
        ("/v1/identify", {"userId": "u1", "traits": {"name": "สมหญิง"}}),
        ("/v1/page", {"anonymousId": "a1", "name": "หน้าแรก"}),
        ("/v1/screen", {"userId": "u1", "name": "Home"}),
        ("/v1/group", {"userId": "u1", "groupId": "g1"}),
        ("/v1/alias", {"userId": "u1", "previousId": "a1"}),
    ],
)
def test_each_single_message_endpoint_stores_its_type(
    workspace: Workspace, path: str, body: dict[str, object]
) -> None:
    response = workspace.client.post(path, json=body, headers=basic(workspace.write_key))
    assert response.status_code == 200
    (event,) = stored(workspace)
    assert event.type == path.rsplit("/", 1)[1]


def test_short_batch_alias_works(workspace: Workspace) -> None:
    response = workspace.client.post(
        "/v1/b", json={"batch": [message()]}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 200
    assert len(stored(workspace)) == 1


def test_track_without_event_name_is_400(workspace: Workspace) -> None:
    response = workspace.client.post(
        "/v1/track", json={"userId": "u1"}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 400
    assert response.json()["message"] == "message: 'event' is required for a track message"


@pytest.mark.parametrize(("short", "kind"), [("t", "track"), ("i", "identify"), ("p", "page")])
def test_analytics_js_short_paths_and_text_plain_bodies_are_accepted(
    workspace: Workspace, short: str, kind: str
) -> None:
    body = {"writeKey": workspace.write_key, "anonymousId": "a1", "event": "Cart Viewed"}
    response = workspace.client.post(
        f"/v1/{short}", content=orjson.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 200
    assert [e.type for e in stored(workspace)] == [kind]


def test_browsers_may_post_from_another_origin(workspace: Workspace) -> None:
    preflight = workspace.client.options(
        "/v1/batch",
        headers={
            "Origin": "https://shop.example.co.th",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_storage_failure_is_503_json_so_clients_retry(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_submit(**_: object) -> Future[None]:
        future: Future[None] = Future()
        future.set_exception(OSError("disk full"))
        return future

    writer = workspace.state.collect.writer
    monkeypatch.setattr(writer, "submit", failing_submit)
    response = workspace.client.post(
        "/v1/batch", json={"batch": [message()]}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert response.headers["retry-after"] == "1"
    assert stored(workspace) == []


def test_an_unexpected_failure_is_a_json_500_not_a_bare_one(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: str) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(workspace.state.collect.keys, "authenticate", broken)
    response = workspace.client.post(
        "/v1/batch", json={"batch": [message()]}, headers=basic(workspace.write_key)
    )
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "code": "internal",
        "message": "internal error; retry later",
    }
    assert stored(workspace) == []
