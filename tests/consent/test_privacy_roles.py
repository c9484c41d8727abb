"""Who may do what with personal data: each role at the privacy routes' boundary."""

from __future__ import annotations

from sqlalchemy import func, select

from sampan.access import service as access
from sampan.consent.models import PrivacyRequest
from tests.conftest import Workspace
from tests.consent.helpers import profile_id, role_auth, send
from tests.factories import identify


def _person(ws: Workspace) -> str:
    send(ws, identify("B1", email="bound@example.com", phone="0812345678", name="บุญมี"))
    return profile_id(ws, email="bound@example.com")


def test_store_staff_can_record_consent_but_not_export_or_erase(workspace: Workspace) -> None:
    pid = _person(workspace)
    staff = role_auth(workspace, "store_staff")
    recorded = workspace.client.post(
        f"/api/privacy/profiles/{pid}/consents",
        json={"consents": [{"purpose": "marketing", "channel": "sms", "status": "granted"}]},
        headers=staff,
    )
    assert recorded.status_code == 201
    export = workspace.client.get(f"/api/privacy/profiles/{pid}/export", headers=staff)
    assert export.status_code == 403
    assert "privacy:export" in export.json()["detail"]
    erase = workspace.client.post(f"/api/privacy/profiles/{pid}/erase", headers=staff)
    assert erase.status_code == 403
    assert workspace.client.get(f"/api/profiles/{pid}", headers=workspace.auth).status_code == 200


def test_a_service_agent_records_requests_but_cannot_fulfil_an_erasure(
    workspace: Workspace,
) -> None:
    pid = _person(workspace)
    agent = role_auth(workspace, "service_agent")
    opened = workspace.client.post(
        "/api/privacy/requests",
        json={"type": "erasure", "profile_id": pid, "requester": "บุญมี via call centre"},
        headers=agent,
    )
    assert opened.status_code == 201
    fulfil = workspace.client.post(
        f"/api/privacy/requests/{opened.json()['id']}/fulfil", headers=agent
    )
    assert fulfil.status_code == 403
    assert "privacy:erase" in fulfil.json()["detail"]
    assert workspace.client.get(f"/api/profiles/{pid}", headers=workspace.auth).status_code == 200
    officer = role_auth(workspace, "privacy_officer")
    done = workspace.client.post(
        f"/api/privacy/requests/{opened.json()['id']}/fulfil", headers=officer
    )
    assert done.status_code == 200
    assert done.json()["status"] == "completed"


def test_an_analyst_cannot_touch_privacy_and_sees_requests_masked(workspace: Workspace) -> None:
    pid = _person(workspace)
    analyst = role_auth(workspace, "analyst")
    for method, path in (
        ("get", "/api/privacy/requests"),
        ("post", f"/api/privacy/profiles/{pid}/preference-link"),
        ("put", f"/api/privacy/profiles/{pid}/blocks/restricted"),
    ):
        response = workspace.client.request(method, path, headers=analyst, json={"active": True})
        assert response.status_code == 403, path
    with workspace.runtime.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0
    marketer = role_auth(workspace, "marketer")
    state = workspace.client.get(f"/api/privacy/profiles/{pid}/consents", headers=marketer)
    assert state.status_code == 200


def test_a_key_without_pii_read_sees_the_requester_masked(workspace: Workspace) -> None:
    pid = _person(workspace)
    created = workspace.client.post(
        "/api/privacy/requests",
        json={"type": "access", "profile_id": pid, "requester": "bound@example.com 0812345678"},
        headers=workspace.auth,
    )
    assert created.status_code == 201
    agent = role_auth(workspace, "service_agent")
    plain = workspace.client.get(f"/api/privacy/requests/{created.json()['id']}", headers=agent)
    assert plain.json()["requester"] == "bound@example.com 0812345678"
    with workspace.runtime.db.transaction() as session:
        scoped = access.issue_api_key(
            session, name="requests only", role="admin", scopes=["privacy:requests"]
        )
    masked = workspace.client.get(
        f"/api/privacy/requests/{created.json()['id']}",
        headers={"Authorization": f"Bearer {scoped.api_key}"},
    )
    assert masked.status_code == 200
    requester = masked.json()["requester"]
    assert "bound@example.com" not in requester
    assert "0812345678" not in requester
    assert "b***@example.com" in requester


def test_without_a_key_every_privacy_route_is_refused(workspace: Workspace) -> None:
    pid = _person(workspace)
    for method, path in (
        ("get", f"/api/privacy/profiles/{pid}/consents"),
        ("get", f"/api/privacy/profiles/{pid}/export"),
        ("post", f"/api/privacy/profiles/{pid}/erase"),
        ("get", "/api/privacy/requests"),
        ("post", "/api/privacy/retention/run"),
    ):
        assert workspace.client.request(method, path).status_code == 401, path
