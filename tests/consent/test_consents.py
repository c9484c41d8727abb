"""Consent through every way in, and ``can_contact`` over it (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sampan.access import service as access
from sampan.api.app import create_app
from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.consent.models import ConsentRecord
from sampan.db.migrate import upgrade
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.conftest import Workspace
from tests.consent.helpers import can_contact, grant, profile_id, send
from tests.factories import identify, message

EMAIL_GRANT = {"purpose": "marketing", "channel": "email", "status": "granted"}


def _records(ws: Workspace) -> int:
    with ws.runtime.db.reading() as session:
        return session.scalar(select(func.count()).select_from(ConsentRecord)) or 0


def test_history_is_appended_and_the_latest_record_is_the_state(workspace: Workspace) -> None:
    send(workspace, identify("C1", email="som@example.com", name="สมหญิง"))
    pid = profile_id(workspace, email="som@example.com")
    grant(
        workspace,
        pid,
        EMAIL_GRANT | {"notice_version": "2026-01", "notice_language": "th"},
        capture_channel="pos",
        recorded_at="2026-01-10T10:00:00+07:00",
    )
    grant(
        workspace,
        pid,
        {"purpose": "marketing", "channel": "email", "status": "withdrawn"},
        recorded_at="2026-02-01T09:00:00+07:00",
    )
    state = workspace.client.get(f"/api/privacy/profiles/{pid}/consents", headers=workspace.auth)
    assert state.status_code == 200
    body = state.json()
    email = next(
        s for s in body["current"] if s["purpose"] == "marketing" and s["channel"] == "email"
    )
    assert email["status"] == "withdrawn"
    assert [r["status"] for r in body["history"]] == ["withdrawn", "granted"]
    first = body["history"][1]
    assert first["notice_version"] == "2026-01"
    assert first["capture_channel"] == "pos"
    assert first["lawful_basis"] == "consent"
    assert first["recorded_by"].startswith("api_key:")
    analytics = next(s for s in body["current"] if s["purpose"] == "analytics")
    assert analytics == {
        "purpose": "analytics",
        "channel": None,
        "status": "none",
        "requires_consent": True,
        "record": None,
    }
    assert can_contact(workspace, pid, "marketing", "email")["reason"] == "withdrawn"


def test_bad_consent_input_is_refused_and_nothing_is_recorded(workspace: Workspace) -> None:
    send(workspace, identify("C2", email="a@example.com"))
    pid = profile_id(workspace, email="a@example.com")
    cases = [
        ({"purpose": "marketing", "status": "granted"}, "given per channel"),
        ({"purpose": "newsletter", "status": "granted"}, "unknown purpose 'newsletter'"),
        ({"purpose": "analytics", "channel": "sms", "status": "granted"}, "not given per channel"),
    ]
    for change, reason in cases:
        response = workspace.client.post(
            f"/api/privacy/profiles/{pid}/consents",
            json={"consents": [EMAIL_GRANT, change]},
            headers=workspace.auth,
        )
        assert response.status_code == 400
        assert "consents[1]" in response.json()["detail"]
        assert reason in response.json()["detail"]
    bad_status = workspace.client.post(
        f"/api/privacy/profiles/{pid}/consents",
        json={"consents": [{"purpose": "analytics", "status": "yes"}]},
        headers=workspace.auth,
    )
    assert bad_status.status_code == 422
    missing = workspace.client.post(
        "/api/privacy/profiles/prf_nobody/consents",
        json={"consents": [EMAIL_GRANT]},
        headers=workspace.auth,
    )
    assert missing.status_code == 404
    assert _records(workspace) == 0


def test_can_contact_gives_the_reason_for_each_refusal(workspace: Workspace) -> None:
    send(workspace, identify("C3", email="k@example.com", phone="0812345678"))
    pid = profile_id(workspace, email="k@example.com")
    assert can_contact(workspace, pid, "marketing", "email")["reason"] == "no_consent"
    grant(workspace, pid, EMAIL_GRANT)
    allowed = can_contact(workspace, pid, "marketing", "email")
    assert (allowed["allowed"], allowed["reason"]) == (True, "consented")
    assert can_contact(workspace, pid, "marketing", "sms")["allowed"] is False
    assert can_contact(workspace, pid, "service", "sms")["reason"] == "lawful_basis"
    grant(workspace, pid, EMAIL_GRANT | {"channel": "line", "expires_at": "2020-01-01T00:00:00Z"})
    assert can_contact(workspace, pid, "marketing", "line")["reason"] == "expired"

    for kind in ("restricted", "objected"):
        put = workspace.client.put(
            f"/api/privacy/profiles/{pid}/blocks/{kind}",
            json={"active": True},
            headers=workspace.auth,
        )
        assert put.status_code == 200
        assert kind in put.json()
        refused = can_contact(workspace, pid, "marketing", "email")
        assert (refused["allowed"], refused["reason"]) == (False, kind)
        assert can_contact(workspace, pid, "service", "sms")["allowed"] is False
        lifted = workspace.client.put(
            f"/api/privacy/profiles/{pid}/blocks/{kind}",
            json={"active": False},
            headers=workspace.auth,
        )
        assert lifted.json() == []
    assert can_contact(workspace, pid, "marketing", "email")["allowed"] is True

    suppressed = workspace.client.post(
        "/api/privacy/suppressions",
        json={"type": "phone", "value": "+66 81 234 5678"},
        headers=workspace.auth,
    )
    assert suppressed.json() == {"added": True}
    refused = can_contact(workspace, pid, "marketing", "email")
    assert (refused["allowed"], refused["reason"]) == (False, "suppressed")
    again = workspace.client.post(
        "/api/privacy/suppressions",
        json={"type": "phone", "value": "081-234-5678"},
        headers=workspace.auth,
    )
    assert again.json() == {"added": False}

    bad = workspace.client.get(
        f"/api/privacy/profiles/{pid}/can-contact",
        params={"purpose": "marketing"},
        headers=workspace.auth,
    )
    assert bad.status_code == 400
    assert "given per channel" in bad.json()["detail"]


def test_consent_updated_events_from_any_source_are_recorded_once(workspace: Workspace) -> None:
    line_key = workspace.new_source("line")
    event = message(
        userId="C4",
        event="Consent Updated",
        timestamp="2026-03-01T08:00:00Z",
        context={"traits": {"email": "line@example.com"}},
        properties={
            "consents": [
                {"purpose": "marketing", "channel": "line", "status": "granted"},
                {"purpose": "personalisation", "status": "granted", "noticeVersion": "v3"},
            ]
        },
    )
    for _ in range(2):
        response = workspace.client.post("/v1/track", json=event, headers={"X-Write-Key": line_key})
        assert response.status_code == 200
    workspace.drain()
    pid = profile_id(workspace, email="line@example.com")
    state = workspace.client.get(
        f"/api/privacy/profiles/{pid}/consents", headers=workspace.auth
    ).json()
    assert len(state["history"]) == 2
    assert {r["capture_channel"] for r in state["history"]} == {"line"}
    assert all(r["source"].startswith("tracking:src_") for r in state["history"])
    assert can_contact(workspace, pid, "marketing", "line")["allowed"] is True
    assert can_contact(workspace, pid, "personalisation")["allowed"] is True


def test_a_malformed_consent_event_is_refused_at_collection(workspace: Workspace) -> None:
    response = workspace.client.post(
        "/v1/batch",
        json={
            "batch": [
                message(userId="C5", event="Product Viewed"),
                message(
                    userId="C5",
                    event="Consent Updated",
                    properties={"purpose": "marketing", "channel": "pigeon", "status": "granted"},
                ),
            ]
        },
        headers={"X-Write-Key": workspace.write_key},
    )
    assert response.status_code == 400
    assert "batch[1]: Consent Updated:" in response.json()["message"]
    assert "got 'pigeon'" in response.json()["message"]
    assert workspace.drain() == 0


def test_consent_follows_the_person_through_a_merge(workspace: Workspace) -> None:
    send(workspace, identify(None, email="merge@example.com") | {"anonymousId": "web-1"})
    web = profile_id(workspace, email="merge@example.com")
    grant(workspace, web, EMAIL_GRANT)
    send(workspace, identify("M9", phone="0899999999"))
    send(workspace, identify("M9", email="merge@example.com"))
    survivor = profile_id(workspace, phone="0899999999")
    assert can_contact(workspace, survivor, "marketing", "email")["allowed"] is True
    assert can_contact(workspace, web, "marketing", "email")["allowed"] is True


def test_a_later_withdrawal_on_a_merged_profile_wins_over_the_survivors_grant(
    workspace: Workspace,
) -> None:
    # The older profile survives a merge: it holds the grant, the newer one the withdrawal.
    send(workspace, identify("M10", phone="0898888888"))
    survivor = profile_id(workspace, phone="0898888888")
    send(workspace, identify(None, email="late@example.com") | {"anonymousId": "web-2"})
    web = profile_id(workspace, email="late@example.com")
    grant(workspace, survivor, EMAIL_GRANT, recorded_at="2026-11-01T09:00:00+07:00")
    withdrawal = EMAIL_GRANT | {"status": "withdrawn"}
    grant(workspace, web, withdrawal, recorded_at="2026-11-02T09:00:00+07:00")
    assert can_contact(workspace, survivor, "marketing", "email")["allowed"] is True
    send(workspace, identify("M10", email="late@example.com"))
    for pid in (survivor, web):
        answer = can_contact(workspace, pid, "marketing", "email")
        assert (answer["allowed"], answer["reason"]) == (False, "withdrawn")
    with workspace.runtime.db.reading() as session:
        batch = consent.can_contact_many(
            session,
            profile_ids=[survivor, web],
            purpose="marketing",
            channel="email",
            catalog=workspace.runtime.catalog,
        )
    assert [batch[pid].reason for pid in (survivor, web)] == ["withdrawn", "withdrawn"]


def test_purposes_come_from_settings(tmp_path: Path) -> None:
    purposes = [
        {"name": "marketing", "title_th": "ข่าวสาร", "title_en": "News", "per_channel": True},
        {"name": "research", "title_th": "วิจัยตลาด", "title_en": "Market research"},
    ]
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, consent_purposes=purposes))
    try:
        assert [slot for slot in runtime.catalog.slots() if slot[0] == "research"] == [
            ("research", "")
        ]
        upgrade(runtime.settings.resolved_database_url())
        with runtime.db.transaction() as session:
            key = access.issue_api_key(session, name="admin")
        with TestClient(create_app(runtime, run_worker=False)) as client:
            listed = client.get(
                "/api/privacy/purposes", headers={"Authorization": f"Bearer {key.api_key}"}
            )
        assert [p["name"] for p in listed.json()] == ["marketing", "research"]
        assert listed.json()[1]["title_th"] == "วิจัยตลาด"
    finally:
        runtime.dispose()


def test_replaying_a_pipeline_batch_records_its_consents_once(workspace: Workspace) -> None:
    event = message(
        userId="R1",
        event="Consent Updated",
        properties={"purpose": "marketing", "channel": "sms", "status": "granted"},
    )
    send(workspace, event)
    owner = profile_id(workspace, user_id="R1")
    with workspace.runtime.db.transaction() as session:
        logged = collect.read_events_after(session, after_seq=0, limit=10)
        owners = {e.seq: owner for e in logged}
        consent.record_consent_events(
            session, events=logged, attribution=owners, catalog=workspace.runtime.catalog
        )
    assert _records(workspace) == 1
