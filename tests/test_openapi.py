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
        ("/api/keys", "get"),
        ("/api/keys", "post"),
        ("/api/keys/{key_id}", "delete"),
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/me", "get"),
        ("/api/users", "get"),
        ("/api/users", "post"),
        ("/api/users/{user_id}", "patch"),
        ("/api/roles", "get"),
        ("/api/audit", "get"),
        ("/api/profiles", "get"),
        ("/api/profiles/lookup", "get"),
        ("/api/profiles/{profile_id}", "get"),
        ("/api/profiles/{profile_id}/events", "get"),
        ("/api/profiles/{profile_id}/merges", "get"),
        ("/api/profiles/{profile_id}/notes", "post"),
        ("/api/profiles/{profile_id}/attributes", "patch"),
        ("/api/profiles/{profile_id}/unmerge", "post"),
        ("/api/pipeline", "get"),
        ("/api/privacy/purposes", "get"),
        ("/api/privacy/profiles/{profile_id}/consents", "get"),
        ("/api/privacy/profiles/{profile_id}/consents", "post"),
        ("/api/privacy/profiles/{profile_id}/can-contact", "get"),
        ("/api/privacy/profiles/{profile_id}/preference-link", "post"),
        ("/api/privacy/profiles/{profile_id}/blocks/{kind}", "put"),
        ("/api/privacy/profiles/{profile_id}/export", "get"),
        ("/api/privacy/profiles/{profile_id}/erase", "post"),
        ("/api/privacy/consents/import", "post"),
        ("/api/privacy/suppressions", "post"),
        ("/api/privacy/requests", "get"),
        ("/api/privacy/requests", "post"),
        ("/api/privacy/requests/{request_id}", "get"),
        ("/api/privacy/requests/{request_id}/status", "post"),
        ("/api/privacy/requests/{request_id}/fulfil", "post"),
        ("/api/privacy/requests/{request_id}/export", "post"),
        ("/api/privacy/retention", "get"),
        ("/api/privacy/retention/run", "post"),
        ("/api/segments", "get"),
        ("/api/segments", "post"),
        ("/api/segments/schema", "get"),
        ("/api/segments/vocabulary", "get"),
        ("/api/segments/insights", "get"),
        ("/api/segments/preview", "post"),
        ("/api/segments/evaluate", "post"),
        ("/api/segments/{segment_id}", "get"),
        ("/api/segments/{segment_id}", "put"),
        ("/api/segments/{segment_id}", "delete"),
        ("/api/segments/{segment_id}/members", "get"),
        ("/api/segments/{segment_id}/members.csv", "get"),
        ("/api/segments/{segment_id}/sizes", "get"),
        ("/preferences/{token}", "get"),
        ("/preferences/{token}", "post"),
        ("/preferences/{token}/unsubscribe", "post"),
    }
    listed = {(path, method) for path, ops in paths.items() for method in ops}
    assert expected <= listed
    bearer_or_cookie = [{"HTTPBearer": []}, {"SessionCookie": []}]
    assert paths["/api/profiles"]["get"]["security"] == bearer_or_cookie
    assert paths["/api/audit"]["get"]["security"] == bearer_or_cookie
    assert paths["/api/privacy/requests"]["get"]["security"] == bearer_or_cookie
    assert "security" not in paths["/preferences/{token}"]["get"]
    export = paths["/api/privacy/profiles/{profile_id}/export"]["get"]
    assert "application/zip" in export["responses"]["200"]["content"]
    csv_body = paths["/api/privacy/consents/import"]["post"]["requestBody"]
    assert "text/csv" in csv_body["content"]
    assert "security" not in paths["/api/auth/login"]["post"]
    assert {"HTTPBearer", "SessionCookie"} <= set(spec["components"]["securitySchemes"])


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
