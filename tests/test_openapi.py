"""The published OpenAPI document describes every public route."""

from __future__ import annotations

from tests.conftest import Workspace


def test_openapi_lists_tracking_and_management_routes(workspace: Workspace) -> None:
    spec = workspace.client.get("/api/openapi.json").json()
    paths = spec["paths"]
    for name in ("track", "identify", "page", "screen", "group", "alias", "batch", "b"):
        operation = paths[f"/v1/{name}"]["post"]
        assert operation["requestBody"]["required"] is True
        assert {"200", "400", "401", "413"} <= set(operation["responses"])
    expected = {
        ("/api/sources", "get"),
        ("/api/sources", "post"),
        ("/api/sources/{source_id}", "patch"),
        ("/api/keys", "post"),
        ("/api/keys/{key_id}", "delete"),
        ("/api/profiles", "get"),
        ("/api/profiles/lookup", "get"),
        ("/api/profiles/{profile_id}", "get"),
        ("/api/profiles/{profile_id}/events", "get"),
        ("/api/profiles/{profile_id}/merges", "get"),
        ("/api/profiles/{profile_id}/notes", "post"),
        ("/api/profiles/{profile_id}/attributes", "patch"),
        ("/api/profiles/{profile_id}/unmerge", "post"),
        ("/api/pipeline", "get"),
    }
    listed = {(path, method) for path, ops in paths.items() for method in ops}
    assert expected <= listed
    assert paths["/api/profiles"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_revoked_api_key_is_refused(workspace: Workspace) -> None:
    issued = workspace.client.post("/api/keys", json={"name": "pos"}, headers=workspace.auth)
    assert issued.status_code == 201
    new_key = issued.json()
    headers = {"Authorization": f"Bearer {new_key['api_key']}"}
    assert workspace.client.get("/api/sources", headers=headers).status_code == 200
    revoked = workspace.client.delete(f"/api/keys/{new_key['id']}", headers=workspace.auth)
    assert revoked.status_code == 200
    refused = workspace.client.get("/api/sources", headers=headers)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "this API key has been revoked"}


def test_metrics_expose_the_pipeline_backlog(workspace: Workspace) -> None:
    body = workspace.client.get("/metrics").text
    assert "sampan_pipeline_backlog 0.0" in body
