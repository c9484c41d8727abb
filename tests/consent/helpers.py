"""Helpers for privacy tests: send events, find profiles, issue keys of a role."""

from __future__ import annotations

from typing import Any

from sampan.access import service as access
from tests.conftest import Workspace


def send(ws: Workspace, *messages: dict[str, Any]) -> None:
    response = ws.client.post(
        "/v1/batch", json={"batch": list(messages)}, headers={"X-Write-Key": ws.write_key}
    )
    assert response.status_code == 200, response.text
    ws.drain()


def profile_id(ws: Workspace, **identifier: str) -> str:
    response = ws.client.get("/api/profiles/lookup", params=identifier, headers=ws.auth)
    assert response.status_code == 200, response.text
    found: str = response.json()["id"]
    return found


def role_auth(ws: Workspace, role: str) -> dict[str, str]:
    with ws.runtime.db.transaction() as session:
        key = access.issue_api_key(session, name=f"{role} key", role=role)
    return {"Authorization": f"Bearer {key.api_key}"}


def grant(ws: Workspace, pid: str, *consents: dict[str, Any], **extra: Any) -> Any:
    response = ws.client.post(
        f"/api/privacy/profiles/{pid}/consents",
        json={"consents": list(consents), **extra},
        headers=ws.auth,
    )
    assert response.status_code == 201, response.text
    return response.json()


def can_contact(ws: Workspace, pid: str, purpose: str, channel: str | None = None) -> Any:
    params = {"purpose": purpose} | ({"channel": channel} if channel else {})
    response = ws.client.get(
        f"/api/privacy/profiles/{pid}/can-contact", params=params, headers=ws.auth
    )
    assert response.status_code == 200, response.text
    return response.json()
