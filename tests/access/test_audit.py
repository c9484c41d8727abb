"""The audit log: who saw or changed what, append-only in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sampan.access import service as access
from sampan.access.schemas import SYSTEM
from tests.conftest import Workspace
from tests.factories import identify

EMAIL = "somchai@gmail.com"


def send_customer(ws: Workspace) -> str:
    batch = [identify("M1", phone="081-234-5678", email=EMAIL, name="สมชาย ใจดี")]
    response = ws.client.post(
        "/v1/batch", json={"batch": batch}, headers={"X-Write-Key": ws.write_key}
    )
    assert response.status_code == 200
    ws.drain()
    found = ws.client.get("/api/profiles/lookup", params={"user_id": "M1"}, headers=ws.auth)
    profile_id: str = found.json()["id"]
    return profile_id


def audit(ws: Workspace, **query: Any) -> list[dict[str, Any]]:
    response = ws.client.get("/api/audit", params=query, headers=ws.auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def all_entries(ws: Workspace) -> list[dict[str, Any]]:
    with ws.runtime.db.reading() as session:
        page = access.list_audit(session, limit=500)
    return [e.model_dump(mode="json") for e in page.items]


def test_viewing_a_profile_records_who_saw_it_and_whether_masked(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    analyst = workspace.key_for("analyst")
    analyst_id = workspace.client.get("/api/auth/me", headers=analyst).json()["id"]
    workspace.client.get(f"/api/profiles/{profile_id}", headers=analyst)
    workspace.client.get(f"/api/profiles/{profile_id}/events", headers=analyst)
    viewed = audit(workspace, action="profile.viewed", actor_id=analyst_id)
    assert [(e["subject_id"], e["detail"]) for e in viewed] == [
        (profile_id, {"events": 1, "view": "timeline", "masked": True}),
        (profile_id, {"view": "profile", "masked": True}),
    ]
    assert viewed[0]["actor_kind"] == "api_key"
    assert viewed[0]["actor_role"] == "analyst"


def test_a_search_is_recorded_once_with_its_count_but_not_its_query(workspace: Workspace) -> None:
    send_customer(workspace)
    workspace.client.get("/api/profiles", params={"q": EMAIL}, headers=workspace.auth)
    searched = audit(workspace, action="profiles.searched")
    assert len(searched) == 1
    assert searched[0]["subject_id"] is None
    assert searched[0]["detail"] == {
        "returned": 1,
        "total": 1,
        "view": "search",
        "masked": False,
    }


def test_a_lookup_records_the_identifier_types_not_values(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    workspace.client.get(
        "/api/profiles/lookup", params={"phone": "0812345678"}, headers=workspace.auth
    )
    entry = audit(workspace, action="profile.viewed")[0]
    assert entry["subject_id"] == profile_id
    assert entry["detail"] == {"by": ["phone"], "view": "lookup", "masked": False}


def test_a_refused_or_failed_view_records_nothing(workspace: Workspace) -> None:
    before = len(all_entries(workspace))
    assert workspace.client.get("/api/profiles/prf_nope", headers=workspace.auth).status_code == 404
    assert workspace.client.get("/api/profiles/prf_nope").status_code == 401
    assert len(all_entries(workspace)) == before


def test_changes_to_a_profile_are_recorded_with_field_names(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    agent = workspace.key_for("service_agent")
    workspace.client.patch(
        f"/api/profiles/{profile_id}/attributes",
        json={"attributes": {"skin_type": "oily", "nickname": "ชาย"}},
        headers=agent,
    )
    note = workspace.client.post(
        f"/api/profiles/{profile_id}/notes",
        json={"body": f"ติดต่อที่ {EMAIL}"},
        headers=agent,
    ).json()
    updated = audit(workspace, action="profile.updated", subject_id=profile_id)
    assert [e["detail"] for e in updated] == [
        {"change": "note_added", "note_id": note["id"]},
        {"change": "attributes", "fields": ["nickname", "skin_type"]},
    ]


def test_the_audit_log_holds_no_personal_values(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    workspace.client.get("/api/profiles", params={"q": "สมชาย"}, headers=workspace.auth)
    workspace.client.get("/api/profiles", params={"q": EMAIL}, headers=workspace.auth)
    workspace.client.get(
        "/api/profiles/lookup", params={"email": EMAIL}, headers=workspace.key_for("marketer")
    )
    workspace.client.post(
        f"/api/profiles/{profile_id}/notes",
        json={"body": "โทร 081-234-5678"},
        headers=workspace.auth,
    )
    workspace.client.post(
        "/api/auth/login", json={"email": "somchai@gmail.com", "password": "guess-guess"}
    )
    dumped = json.dumps(all_entries(workspace), ensure_ascii=False)
    for personal in (EMAIL, "somchai", "สมชาย", "812345678", "081-234-5678"):
        assert personal not in dumped


def test_keys_issued_and_revoked_are_recorded(workspace: Workspace) -> None:
    issued = workspace.client.post(
        "/api/keys", json={"name": "pos", "role": "store_staff"}, headers=workspace.auth
    ).json()
    workspace.client.delete(f"/api/keys/{issued['id']}", headers=workspace.auth)
    entries = audit(workspace, subject_id=issued["id"])
    assert [(e["action"], e["detail"]) for e in entries] == [
        ("key.revoked", {}),
        ("key.issued", {"role": "store_staff", "scopes": None, "expires_at": None}),
    ]


def test_the_audit_log_pages_and_filters(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    with workspace.runtime.db.transaction() as session:
        for minutes in range(5):
            access.record_audit(
                session,
                actor=SYSTEM,
                action=f"test.step{minutes}",
                subject_type="test",
                subject_id="t1",
                clock=lambda m=minutes: now + timedelta(minutes=m),
            )
    first = workspace.client.get(
        "/api/audit", params={"subject_id": "t1", "limit": 2}, headers=workspace.auth
    ).json()
    assert [e["action"] for e in first["items"]] == ["test.step4", "test.step3"]
    second = workspace.client.get(
        "/api/audit",
        params={"subject_id": "t1", "limit": 2, "cursor": first["next_cursor"]},
        headers=workspace.auth,
    ).json()
    assert [e["action"] for e in second["items"]] == ["test.step2", "test.step1"]
    window = audit(
        workspace,
        action="test.*",
        since=(now + timedelta(minutes=1)).isoformat(),
        until=(now + timedelta(minutes=3)).isoformat(),
    )
    assert [e["action"] for e in window] == ["test.step2", "test.step1"]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"cursor": "abc"}, "cursor 'abc' is not one this API returned: pass next_cursor"),
        ({"since": "2026-01-01T00:00:00"}, "since needs a time zone"),
    ],
)
def test_bad_audit_queries_are_refused(
    workspace: Workspace, query: dict[str, str], detail: str
) -> None:
    response = workspace.client.get("/api/audit", params=query, headers=workspace.auth)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE access_audit_log SET action = 'forged'", "DELETE FROM access_audit_log"],
)
def test_the_database_refuses_to_change_or_delete_audit_entries(
    workspace: Workspace, statement: str
) -> None:
    with workspace.runtime.db.transaction() as session:
        access.record_audit(session, actor=SYSTEM, action="test.kept", subject_type="test")
    with (
        pytest.raises(DBAPIError, match="append-only"),
        workspace.runtime.db.transaction() as session,
    ):
        session.execute(text(statement))
    assert [e["action"] for e in all_entries(workspace)] == ["test.kept", "key.issued"]
