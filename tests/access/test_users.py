"""Managing console users through /api/users (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from sampan.access import service as access
from sampan.access.schemas import Principal
from sampan.core.errors import Conflict, Forbidden
from tests.conftest import Workspace

PASSWORD = "ดอกไม้บาน-2026"


def new_user(ws: Workspace, **fields: Any) -> Any:
    body = {"email": "nun@example.co.th", "name": "นุ่น", "role": "store_staff"}
    body = body | {"password": PASSWORD} | fields
    return ws.client.post("/api/users", json=body, headers=ws.auth)


def user_count(ws: Workspace) -> int:
    with ws.runtime.db.reading() as session:
        return len(access.list_users(session))


def test_an_admin_creates_and_lists_users(workspace: Workspace) -> None:
    created = new_user(workspace, email=" Nun@Example.CO.TH ")
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "nun@example.co.th"
    assert (user["name"], user["role"], user["disabled"]) == ("นุ่น", "store_staff", False)
    assert user["id"].startswith("usr_")
    listed = workspace.client.get("/api/users", headers=workspace.auth).json()
    assert listed == [user]


@pytest.mark.parametrize(
    ("fields", "status", "detail"),
    [
        ({"password": "short1234"}, 400, "password is too short: use at least 10 characters"),
        ({"role": "owner"}, 400, "unknown role 'owner': roles are admin, privacy_officer"),
        ({"email": "nun.example.co.th"}, 400, "'nun.example.co.th' is not an e-mail address"),
        ({"name": "   "}, 400, "name must not be blank"),
    ],
)
def test_bad_user_requests_are_refused_with_a_reason(
    workspace: Workspace, fields: dict[str, Any], status: int, detail: str
) -> None:
    response = new_user(workspace, **fields)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)
    assert user_count(workspace) == 0


def test_an_e_mail_address_is_taken_once_whatever_its_case(workspace: Workspace) -> None:
    assert new_user(workspace).status_code == 201
    duplicate = new_user(workspace, email="NUN@example.co.th", role="analyst")
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "a user with e-mail 'nun@example.co.th' already exists"}
    assert user_count(workspace) == 1


def test_a_role_change_and_a_disable_are_audited(workspace: Workspace) -> None:
    user_id = new_user(workspace).json()["id"]
    changed = workspace.client.patch(
        f"/api/users/{user_id}", json={"role": "service_agent"}, headers=workspace.auth
    )
    assert changed.json()["role"] == "service_agent"
    workspace.client.patch(f"/api/users/{user_id}", json={"disabled": True}, headers=workspace.auth)
    audit = workspace.client.get(
        "/api/audit", params={"subject_id": user_id}, headers=workspace.auth
    ).json()
    assert [(e["action"], e["detail"]) for e in audit["items"]] == [
        ("user.disabled", {}),
        ("user.role_changed", {"from": "store_staff", "to": "service_agent"}),
        ("user.created", {"role": "store_staff"}),
    ]
    assert {e["actor_kind"] for e in audit["items"]} == {"api_key"}


def test_an_unknown_role_or_user_is_refused_on_change(workspace: Workspace) -> None:
    user_id = new_user(workspace).json()["id"]
    bad_role = workspace.client.patch(
        f"/api/users/{user_id}", json={"role": "god"}, headers=workspace.auth
    )
    assert bad_role.status_code == 400
    missing = workspace.client.patch(
        "/api/users/usr_nope", json={"disabled": True}, headers=workspace.auth
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "user 'usr_nope' does not exist"}


def test_users_cannot_change_their_own_role(workspace: Workspace) -> None:
    user_id = new_user(workspace, role="admin").json()["id"]
    me = Principal(kind="user", id=user_id, name="นุ่น", role="admin", permissions=frozenset({"*"}))
    with workspace.runtime.db.transaction() as session, pytest.raises(Conflict):
        access.update_user(session, user_id=user_id, role="analyst", actor=me)


def test_a_user_manager_cannot_create_a_more_powerful_user(workspace: Workspace) -> None:
    manager = Principal(
        kind="user",
        id="usr_1",
        name="x",
        role="custom",
        permissions=frozenset({"users:manage", "profiles:read"}),
    )
    with (
        workspace.runtime.db.transaction() as session,
        pytest.raises(Forbidden, match="you cannot create a user with permissions"),
    ):
        access.create_user(
            session,
            email="boss@example.co.th",
            name="boss",
            role="analyst",
            password=PASSWORD,
            actor=manager,
        )
    assert user_count(workspace) == 0
