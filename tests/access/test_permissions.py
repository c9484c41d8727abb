"""Every /api route checks a permission; roles, scopes and expiry decide (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from sampan.access import service as access
from sampan.access.guards import ensure_guarded, require
from sampan.access.roles import ROLES
from tests.conftest import Workspace
from tests.factories import identify

ROUTES = {
    "sources": ("GET", "/api/sources"),
    "keys": ("GET", "/api/keys"),
    "users": ("GET", "/api/users"),
    "audit": ("GET", "/api/audit"),
    "pipeline": ("GET", "/api/pipeline"),
    "profiles": ("GET", "/api/profiles"),
    "roles": ("GET", "/api/roles"),
    "me": ("GET", "/api/auth/me"),
}
# Which of ROUTES each role may call; every other call must be 403.
ALLOWED = {
    "admin": set(ROUTES),
    "privacy_officer": {"audit", "profiles", "roles", "me"},
    "service_agent": {"profiles", "roles", "me"},
    "store_staff": {"profiles", "roles", "me"},
    "marketer": {"profiles", "roles", "me"},
    "analyst": {"pipeline", "profiles", "roles", "me"},
    "developer": {"sources", "keys", "pipeline", "profiles", "roles", "me"},
}


def send_customer(ws: Workspace) -> str:
    response = ws.client.post(
        "/v1/batch",
        json={
            "batch": [
                identify(
                    "M1",
                    phone="+66812345678",
                    email="somchai@gmail.com",
                    name="สมชาย ใจดี",
                    address={"street": "99 ถนนสุขุมวิท"},
                )
            ]
        },
        headers={"X-Write-Key": ws.write_key},
    )
    assert response.status_code == 200, response.text
    ws.drain()
    found = ws.client.get("/api/profiles/lookup", params={"user_id": "M1"}, headers=ws.auth)
    profile_id: str = found.json()["id"]
    return profile_id


def key_count(ws: Workspace) -> int:
    with ws.runtime.db.reading() as session:
        return access.count_api_keys(session)


def test_each_role_reaches_exactly_the_routes_its_permissions_allow(workspace: Workspace) -> None:
    assert set(ALLOWED) == set(ROLES)
    for role, allowed in ALLOWED.items():
        headers = workspace.key_for(role)
        for name, (method, path) in ROUTES.items():
            response = workspace.client.request(method, path, headers=headers)
            expected = 200 if name in allowed else 403
            assert response.status_code == expected, (role, name, response.text)


def test_a_refusal_names_the_missing_permission(workspace: Workspace) -> None:
    response = workspace.client.get("/api/audit", headers=workspace.key_for("marketer"))
    assert response.status_code == 403
    assert response.json() == {
        "detail": "permission 'audit:read' is needed: this API key (role marketer) lacks it"
    }


def test_store_staff_cannot_export_or_erase_a_person(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    staff = workspace.key_for("store_staff")
    exported = workspace.client.get(f"/api/privacy/profiles/{profile_id}/export", headers=staff)
    assert exported.status_code == 403
    assert "privacy:export" in exported.json()["detail"]
    erased = workspace.client.post(f"/api/privacy/profiles/{profile_id}/erase", headers=staff)
    assert erased.status_code == 403
    assert "privacy:erase" in erased.json()["detail"]
    still_there = workspace.client.get(f"/api/profiles/{profile_id}", headers=workspace.auth)
    assert still_there.json()["traits"]["email"] == "somchai@gmail.com"


def test_only_admin_and_privacy_officer_may_export_or_erase() -> None:
    for permission in ("privacy:export", "privacy:erase"):
        holders = {name for name, role in ROLES.items() if {"*", permission} & role.permissions}
        assert holders == {"admin", "privacy_officer"}


def test_an_analyst_sees_masked_phones_emails_and_names(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    analyst = workspace.key_for("analyst")
    profile = workspace.client.get(f"/api/profiles/{profile_id}", headers=analyst).json()
    identities = {i["type"]: i["value"] for i in profile["identities"]}
    assert identities == {"phone": "08x-xxx-5678", "email": "s***@gmail.com", "user_id": "M1"}
    assert profile["traits"]["phone"] == "08x-xxx-5678"
    assert profile["traits"]["email"] == "s***@gmail.com"
    assert profile["traits"]["name"] == "ส*** ใ***"
    assert profile["traits"]["address"] == {"street": "***"}
    assert profile["display_name"] == "ส*** ใ***"
    timeline = workspace.client.get(f"/api/profiles/{profile_id}/events", headers=analyst)
    raw = timeline.text
    assert "somchai@gmail.com" not in raw
    assert "812345678" not in raw
    assert timeline.json()["items"][0]["message"]["traits"]["email"] == "s***@gmail.com"
    admin_view = workspace.client.get(f"/api/profiles/{profile_id}", headers=workspace.auth)
    assert admin_view.json()["traits"]["phone"] == "+66812345678"


def test_an_error_quoting_a_phone_is_masked_too(workspace: Workspace) -> None:
    analyst = workspace.key_for("analyst")
    missing = workspace.client.get(
        "/api/profiles/lookup", params={"phone": "0899999999"}, headers=analyst
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no profile has phone '08x-xxx-9999'"}
    admin = workspace.client.get(
        "/api/profiles/lookup", params={"phone": "0899999999"}, headers=workspace.auth
    )
    assert admin.json() == {"detail": "no profile has phone '+66899999999'"}


def test_a_store_staff_key_sees_personal_data_at_the_counter(workspace: Workspace) -> None:
    send_customer(workspace)
    found = workspace.client.get(
        "/api/profiles/lookup",
        params={"phone": "081-234-5678"},
        headers=workspace.key_for("store_staff"),
    )
    assert found.status_code == 200
    assert found.json()["traits"]["email"] == "somchai@gmail.com"


def test_an_analyst_cannot_write_a_note(workspace: Workspace) -> None:
    profile_id = send_customer(workspace)
    response = workspace.client.post(
        f"/api/profiles/{profile_id}/notes",
        json={"body": "x"},
        headers=workspace.key_for("analyst"),
    )
    assert response.status_code == 403
    profile = workspace.client.get(f"/api/profiles/{profile_id}", headers=workspace.auth)
    assert profile.json()["notes"] == []


def test_scopes_narrow_a_key_to_some_of_its_role(workspace: Workspace) -> None:
    narrow = workspace.key_for("analyst", scopes=["profiles:read"])
    assert workspace.client.get("/api/profiles", headers=narrow).status_code == 200
    assert workspace.client.get("/api/pipeline", headers=narrow).status_code == 403
    me = workspace.client.get("/api/auth/me", headers=narrow).json()
    assert (me["kind"], me["role"], me["permissions"]) == ("api_key", "analyst", ["profiles:read"])


def test_a_revoked_key_gets_401(workspace: Workspace) -> None:
    issued = workspace.client.post(
        "/api/keys", json={"name": "pos", "role": "store_staff"}, headers=workspace.auth
    ).json()
    headers = {"Authorization": f"Bearer {issued['api_key']}"}
    assert workspace.client.get("/api/profiles", headers=headers).status_code == 200
    workspace.client.delete(f"/api/keys/{issued['id']}", headers=workspace.auth)
    refused = workspace.client.get("/api/profiles", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "this API key has been revoked"}


def test_an_expired_key_gets_401(workspace: Workspace) -> None:
    issued_at = datetime.now(UTC) - timedelta(days=2)
    with workspace.runtime.db.transaction() as session:
        key = access.issue_api_key(
            session,
            name="campaign",
            role="marketer",
            expires_at=issued_at + timedelta(days=1),
            clock=lambda: issued_at,
        )
    refused = workspace.client.get(
        "/api/profiles", headers={"Authorization": f"Bearer {key.api_key}"}
    )
    assert refused.status_code == 401
    expired = (issued_at + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    assert refused.json() == {"detail": f"this API key expired at {expired} UTC"}


def test_a_key_that_expires_later_works_until_then(workspace: Workspace) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    issued = workspace.client.post(
        "/api/keys",
        json={"name": "temp", "role": "analyst", "expires_at": soon},
        headers=workspace.auth,
    )
    assert issued.status_code == 201
    assert issued.json()["expires_at"] is not None
    headers = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    assert workspace.client.get("/api/profiles", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("role", "scopes", "missing"),
    [
        ("admin", None, "* (every permission)"),
        ("privacy_officer", None, "audit:read, consent:read"),
        ("developer", ["pii:read"], None),
    ],
)
def test_a_key_cannot_get_permissions_its_issuer_lacks(
    workspace: Workspace, role: str, scopes: list[str] | None, missing: str | None
) -> None:
    developer = workspace.key_for("developer")
    before = key_count(workspace)
    body: dict[str, Any] = {"name": "escalation", "role": role, "scopes": scopes}
    response = workspace.client.post("/api/keys", json=body, headers=developer)
    if missing is None:
        # pii:read is not even a permission of the developer role.
        assert response.status_code == 400
        assert response.json()["detail"].startswith(
            "scope 'pii:read' is not a permission of role 'developer'"
        )
    else:
        assert response.status_code == 403
        assert response.json()["detail"].startswith(
            f"you cannot issue a key with permissions you do not have: {missing}"
        )
    assert key_count(workspace) == before


def test_a_developer_may_issue_a_key_within_its_own_permissions(workspace: Workspace) -> None:
    response = workspace.client.post(
        "/api/keys",
        json={"name": "ci", "role": "developer", "scopes": ["sources:manage"]},
        headers=workspace.key_for("developer"),
    )
    assert response.status_code == 201
    assert response.json()["permissions"] == ["sources:manage"]


def test_a_developer_cannot_revoke_an_admin_key(workspace: Workspace) -> None:
    keys = workspace.client.get("/api/keys", headers=workspace.auth).json()
    admin_key = next(k for k in keys if k["role"] == "admin")
    refused = workspace.client.delete(
        f"/api/keys/{admin_key['id']}", headers=workspace.key_for("developer")
    )
    assert refused.status_code == 403
    assert workspace.client.get("/api/profiles", headers=workspace.auth).status_code == 200


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"name": "x", "role": "boss"},
            "unknown role 'boss': roles are admin, privacy_officer, service_agent, "
            "store_staff, marketer, analyst, developer",
        ),
        (
            {"name": "x", "role": "analyst", "scopes": ["profiles:delete"]},
            "unknown permission 'profiles:delete' in scopes",
        ),
        (
            {"name": "x", "role": "analyst", "expires_at": "2020-01-01T00:00:00Z"},
            "expires_at 2020-01-01T00:00:00+00:00 is not in the future",
        ),
        (
            {"name": "x", "role": "analyst", "expires_at": "2030-01-01T00:00:00"},
            "expires_at needs a time zone",
        ),
    ],
)
def test_bad_key_requests_are_refused_with_a_reason(
    workspace: Workspace, body: dict[str, Any], detail: str
) -> None:
    before = key_count(workspace)
    response = workspace.client.post("/api/keys", json=body, headers=workspace.auth)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert key_count(workspace) == before


def test_keys_are_listed_without_secrets(workspace: Workspace) -> None:
    workspace.key_for("analyst")
    listed = workspace.client.get("/api/keys", headers=workspace.auth).json()
    names = [(k["name"], k["role"]) for k in listed]
    assert names == [("test", "admin"), ("analyst key", "analyst")]
    assert all("api_key" not in k and "key_hash" not in k for k in listed)


def test_roles_are_listed_with_their_permissions(workspace: Workspace) -> None:
    listed = workspace.client.get("/api/roles", headers=workspace.auth).json()
    roles = {r["name"]: r for r in listed}
    assert list(roles) == list(ROLES)
    assert "pii:read" not in roles["marketer"]["permissions"]
    assert "privacy:erase" in roles["privacy_officer"]["permissions"]
    assert "privacy:erase" in roles["admin"]["permissions"]


def test_metrics_and_the_api_reference_stay_open(workspace: Workspace) -> None:
    assert workspace.client.get("/metrics").status_code == 200
    assert workspace.client.get("/api/openapi.json").status_code == 200


def test_an_app_with_an_unguarded_api_route_is_refused() -> None:
    app = FastAPI()

    @app.get("/api/guarded", dependencies=[require("profiles:read")])
    def guarded() -> None: ...

    ensure_guarded(app)

    @app.get("/api/forgotten")
    def forgotten() -> None: ...

    with pytest.raises(RuntimeError, match="GET /api/forgotten has no permission check"):
        ensure_guarded(app)
