"""Data-subject requests: deadlines, export, erasure that leaves nothing behind, blocks."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sampan.access.schemas import SYSTEM
from sampan.consent import service as consent
from sampan.consent.schemas import RequestCreate
from sampan.db.base import Base
from tests.conftest import Workspace
from tests.consent.helpers import can_contact, grant, profile_id, send
from tests.factories import identify, message

PERSON = {
    "email": "Somchai.J@Example.com",
    "phone": "081-234-5678",
    "name": "สมชาย ใจดี",
    "line_user_id": "U4af4980629aaaaaaaaaaaaaaaaaaaaaa",
    "address": "99 ถนนสุขุมวิท แขวงคลองเตย",
}
# Every form a value may be stored in: as sent, normalised, and inside JSON.
NEEDLES = [
    "somchai.j@example.com",
    "Somchai.J@Example.com",
    "+66812345678",
    "0812345678",
    "081-234-5678",
    "สมชาย",
    "ใจดี",
    "U4af4980629aaaaaaaaaaaaaaaaaaaaaa",
    "สุขุมวิท",
    "CUST-ERASE-1",
    "anon-erase-1",
    "แพ้น้ำหอม",
    "ORDER-ERASE-77",
]


def _seed_person(ws: Workspace) -> str:
    send(
        ws,
        identify(None, **PERSON) | {"anonymousId": "anon-erase-1"},
        identify("CUST-ERASE-1", email=PERSON["email"]),
        message(
            userId="CUST-ERASE-1",
            event="Order Completed",
            properties={"order_id": "ORDER-ERASE-77", "total": 1290, "currency": "THB"},
        ),
        message(
            userId="CUST-ERASE-1",
            event="Consent Updated",
            properties={"purpose": "marketing", "channel": "email", "status": "granted"},
        ),
    )
    pid = profile_id(ws, phone="0812345678")
    note = ws.client.post(
        f"/api/profiles/{pid}/notes", json={"body": "ลูกค้าแพ้น้ำหอม"}, headers=ws.auth
    )
    assert note.status_code == 201, note.text
    return pid


def _open(ws: Workspace, pid: str, kind: str, **extra: Any) -> dict[str, Any]:
    response = ws.client.post(
        "/api/privacy/requests",
        json={
            "type": kind,
            "profile_id": pid,
            "requester": "สมชาย ใจดี ทาง LINE 081-234-5678",
            "verification_note": "ตรวจบัตรประชาชนที่สาขาสยาม",
            **extra,
        },
        headers=ws.auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _stored_text(ws: Workspace) -> str:
    """Return every value of every table, as text, in every encoding a value may take."""
    chunks = []
    with ws.runtime.db.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        chunks.append(value.decode("utf-8", "replace"))
                    elif isinstance(value, dict | list):
                        chunks.append(json.dumps(value, ensure_ascii=False))
                    elif value is not None:
                        chunks.append(str(value))
    return "\n".join(chunks)


def test_a_request_is_due_in_30_days_and_listed_when_overdue(workspace: Workspace) -> None:
    send(workspace, identify("D1", email="due@example.com"))
    pid = profile_id(workspace, email="due@example.com")
    opened = _open(workspace, pid, "access")
    received = datetime.fromisoformat(opened["received_at"])
    assert datetime.fromisoformat(opened["due_at"]) - received == timedelta(days=30)
    assert opened["status"] == "open"
    assert opened["overdue"] is False
    assert [s["action"] for s in opened["steps"]] == ["received"]
    with workspace.runtime.db.reading() as session:
        later = consent.list_requests(
            session, overdue=True, clock=lambda: received + timedelta(days=31)
        )
        on_time = consent.list_requests(
            session, overdue=True, clock=lambda: received + timedelta(days=29)
        )
    assert [r.id for r in later.items] == [opened["id"]]
    assert later.items[0].overdue is True
    assert on_time.total == 0
    listed = workspace.client.get("/api/privacy/requests", headers=workspace.auth).json()
    assert listed["total"] == 1


def test_a_rejection_needs_a_reason_and_closes_the_request(workspace: Workspace) -> None:
    send(workspace, identify("D2", email="rej@example.com"))
    pid = profile_id(workspace, email="rej@example.com")
    opened = _open(workspace, pid, "erasure")
    url = f"/api/privacy/requests/{opened['id']}/status"
    bare = workspace.client.post(url, json={"status": "rejected"}, headers=workspace.auth)
    assert bare.status_code == 400
    assert "needs a note" in bare.json()["detail"]
    done = workspace.client.post(
        url, json={"status": "rejected", "note": "identity not verified"}, headers=workspace.auth
    )
    assert done.json()["status"] == "rejected"
    again = workspace.client.post(
        f"/api/privacy/requests/{opened['id']}/fulfil", headers=workspace.auth
    )
    assert again.status_code == 409
    assert profile_id(workspace, email="rej@example.com") == pid


def test_an_access_request_exports_everything_as_json_and_csv(workspace: Workspace) -> None:
    pid = _seed_person(workspace)
    opened = _open(workspace, pid, "access")
    response = workspace.client.post(
        f"/api/privacy/requests/{opened['id']}/export", headers=workspace.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    for section in ("profile", "identities", "events", "consents", "notes", "privacy_requests"):
        assert {f"{section}.json", f"{section}.csv"} <= names
    assert {"README.txt", "manifest.json"} <= names
    profile = json.loads(archive.read("profile.json"))[0]
    assert profile["traits"]["name"] == "สมชาย ใจดี"
    assert profile["computed"]["order_count"] == 1
    identities = list(
        csv.DictReader(io.StringIO(archive.read("identities.csv").decode("utf-8-sig")))
    )
    assert {"type": "phone", "value": "+66812345678"} in [
        {"type": i["type"], "value": i["value"]} for i in identities
    ]
    events = json.loads(archive.read("events.json"))
    assert {e["name"] for e in events} >= {"Order Completed", "Consent Updated"}
    assert len(events) == 4
    assert json.loads(archive.read("notes.json"))[0]["body"] == "ลูกค้าแพ้น้ำหอม"
    assert json.loads(archive.read("consents.json"))[0]["status"] == "granted"
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["files"]["events"]["rows"] == 4
    closed = workspace.client.get(
        f"/api/privacy/requests/{opened['id']}", headers=workspace.auth
    ).json()
    assert closed["status"] == "completed"
    assert [s["action"] for s in closed["steps"]] == ["received", "completed"]


def test_erasure_leaves_none_of_the_persons_data_anywhere(workspace: Workspace) -> None:
    pid = _seed_person(workspace)
    send(workspace, identify("BYSTANDER", email="other@example.com", name="มานี มีนา"))
    before = _stored_text(workspace)
    assert [n for n in NEEDLES if n not in before] == ["0812345678"]
    opened = _open(workspace, pid, "erasure")
    response = workspace.client.post(
        f"/api/privacy/requests/{opened['id']}/fulfil", headers=workspace.auth
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "completed"
    assert result["result"]["removed"]["collect.events"] == 4
    assert result["result"]["suppressed"] >= 4

    after = _stored_text(workspace)
    for needle in NEEDLES:
        assert needle not in after, f"{needle!r} survived the erasure"
    assert "มานี มีนา" in after
    assert profile_id(workspace, email="other@example.com")

    gone = workspace.client.get(f"/api/profiles/{pid}", headers=workspace.auth)
    assert gone.status_code == 404
    assert "was erased" in gone.json()["detail"]
    assert can_contact(workspace, pid, "marketing", "email")["reason"] == "erased"
    twice = workspace.client.post(f"/api/privacy/profiles/{pid}/erase", headers=workspace.auth)
    assert twice.status_code == 400


def test_on_sqlite_not_even_the_database_file_holds_the_erased_values(
    workspace: Workspace,
) -> None:
    if not workspace.runtime.db.is_sqlite:
        pytest.skip("PostgreSQL reclaims dead rows by VACUUM; the file check is SQLite's")
    pid = _seed_person(workspace)
    path = Path(workspace.runtime.settings.resolved_database_url().split("///", 1)[1])
    response = workspace.client.post(f"/api/privacy/profiles/{pid}/erase", headers=workspace.auth)
    assert response.status_code == 200
    raw = b"".join(
        file.read_bytes() for file in path.parent.glob(f"{path.name}*") if file.is_file()
    )
    for needle in NEEDLES:
        assert needle.encode() not in raw, f"{needle!r} is still in the file"


def test_erasing_directly_closes_the_open_erasure_request(workspace: Workspace) -> None:
    pid = _seed_person(workspace)
    opened = _open(workspace, pid, "erasure")
    erased = workspace.client.post(f"/api/privacy/profiles/{pid}/erase", headers=workspace.auth)
    assert erased.status_code == 200
    closed = workspace.client.get(
        f"/api/privacy/requests/{opened['id']}", headers=workspace.auth
    ).json()
    assert closed["status"] == "completed"
    assert closed["requester"] == "[erased]"
    late = workspace.client.post(
        "/api/privacy/requests",
        json={"type": "access", "profile_id": pid, "requester": "x"},
        headers=workspace.auth,
    )
    assert late.status_code == 400
    assert "holds no personal data" in late.json()["detail"]


def test_an_erased_person_imported_again_is_never_marketed_to(workspace: Workspace) -> None:
    pid = _seed_person(workspace)
    erased = workspace.client.post(f"/api/privacy/profiles/{pid}/erase", headers=workspace.auth)
    assert erased.status_code == 200
    send(workspace, identify("NEW-ID", email="somchai.j@example.com"))
    newcomer = profile_id(workspace, email="somchai.j@example.com")
    assert newcomer != pid
    grant(workspace, newcomer, {"purpose": "marketing", "channel": "email", "status": "granted"})
    refused = can_contact(workspace, newcomer, "marketing", "email")
    assert (refused["allowed"], refused["reason"]) == (False, "suppressed")


def test_erasure_keeps_anonymous_aggregates_only(workspace: Workspace) -> None:
    pid = _seed_person(workspace)
    with workspace.runtime.db.transaction() as session:
        consent.erase_person(
            session, registry=workspace.runtime.registry, profile_id=pid, actor=SYSTEM
        )
    with workspace.runtime.db.reading() as session:
        row = session.execute(
            select(Base.metadata.tables["profiles_profiles"]).where(
                Base.metadata.tables["profiles_profiles"].c.id == pid
            )
        ).one()
    assert row.erased_at is not None
    assert row.display_name is None
    assert row.state["traits"] == {}
    assert [order[0] for order in row.state["orders"].values()] == [129000]


def test_restriction_objection_and_rectification_requests(workspace: Workspace) -> None:
    send(workspace, identify("D3", email="r@example.com", last_name="ใจร้าย"))
    pid = profile_id(workspace, email="r@example.com")
    grant(workspace, pid, {"purpose": "marketing", "channel": "email", "status": "granted"})
    for kind, block in (("restriction", "restricted"), ("objection", "objected")):
        opened = _open(workspace, pid, kind)
        done = workspace.client.post(
            f"/api/privacy/requests/{opened['id']}/fulfil", headers=workspace.auth
        )
        assert done.json()["result"] == {
            "blocks": sorted({block} | ({"restricted"} if kind == "objection" else set()))
        }
    assert can_contact(workspace, pid, "marketing", "email")["reason"] == "restricted"

    bad = workspace.client.post(
        "/api/privacy/requests",
        json={"type": "rectification", "profile_id": pid, "requester": "self"},
        headers=workspace.auth,
    )
    assert bad.status_code == 400
    assert "details.traits" in bad.json()["detail"]
    opened = _open(workspace, pid, "rectification", details={"traits": {"last_name": "ใจดี"}})
    done = workspace.client.post(
        f"/api/privacy/requests/{opened['id']}/fulfil", headers=workspace.auth
    )
    assert done.json()["result"] == {"rectified": ["last_name"]}
    profile = workspace.client.get(f"/api/profiles/{pid}", headers=workspace.auth).json()
    assert profile["traits"]["last_name"] == "ใจดี"
    send(workspace, identify("D3", at="2020-01-01T00:00:00Z", last_name="ใจร้าย"))
    profile = workspace.client.get(f"/api/profiles/{pid}", headers=workspace.auth).json()
    assert profile["traits"]["last_name"] == "ใจดี"


def test_audit_log_records_exports_and_erasures_without_personal_values(
    workspace: Workspace,
) -> None:
    pid = _seed_person(workspace)
    assert (
        workspace.client.get(
            f"/api/privacy/profiles/{pid}/export", headers=workspace.auth
        ).status_code
        == 200
    )
    assert (
        workspace.client.post(
            f"/api/privacy/profiles/{pid}/erase", headers=workspace.auth
        ).status_code
        == 200
    )
    audit = workspace.client.get(
        "/api/audit", params={"subject_id": pid}, headers=workspace.auth
    ).json()
    actions = [entry["action"] for entry in audit["items"]]
    assert "profile.exported" in actions
    assert "profile.erased" in actions
    assert "consent.changed" in actions
    assert "สมชาย" not in json.dumps(audit, ensure_ascii=False)


def test_requests_are_validated(workspace: Workspace) -> None:
    unknown = workspace.client.post(
        "/api/privacy/requests",
        json={"type": "access", "profile_id": "prf_missing", "requester": "x"},
        headers=workspace.auth,
    )
    assert unknown.status_code == 404
    bad_type = workspace.client.post(
        "/api/privacy/requests",
        json={"type": "deletion", "profile_id": "prf_missing", "requester": "x"},
        headers=workspace.auth,
    )
    assert bad_type.status_code == 422
    with workspace.runtime.db.reading() as session:
        assert consent.list_requests(session).total == 0
    assert RequestCreate.model_fields["type"].annotation is not None
    missing = workspace.client.get("/api/privacy/requests/dsr_nope", headers=workspace.auth)
    assert missing.status_code == 404
    assert datetime.now(UTC)
