"""Consent from a CSV file and from the customer's own preference page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from sampan.collect import service as collect
from sampan.consent import service as consent
from sampan.consent.models import ConsentRecord
from sampan.core.clock import system_clock
from tests.conftest import Workspace
from tests.consent.helpers import can_contact, grant, profile_id, send
from tests.factories import identify

CSV = (
    "\ufeffemail,phone,purpose,channel,status,notice_version,recorded_at\n"
    "nok@example.com,,marketing,email,granted,2025-06,2025-06-01T10:00:00+07:00\n"
    ",089-111-2222,marketing,sms,granted,2025-06,2025-06-02T10:00:00+07:00\n"
    ",089-111-2222,analytics,,withdrawn,2025-06,2025-06-02T10:00:00+07:00\n"
)


def _import(ws: Workspace, text: str) -> dict:
    response = ws.client.post(
        "/api/privacy/consents/import",
        content=text.encode("utf-8"),
        headers=ws.auth | {"Content-Type": "text/csv"},
    )
    return {"status": response.status_code, "body": response.json()}


def _records(ws: Workspace) -> int:
    with ws.runtime.db.reading() as session:
        return session.scalar(select(func.count()).select_from(ConsentRecord)) or 0


def test_a_csv_import_creates_people_and_records_each_consent_once(workspace: Workspace) -> None:
    first = _import(workspace, CSV)
    assert first["status"] == 202
    assert first["body"]["rows"] == 3
    assert first["body"]["events_logged"] == 3
    workspace.drain()
    nok = profile_id(workspace, email="nok@example.com")
    assert can_contact(workspace, nok, "marketing", "email")["allowed"] is True
    phone = profile_id(workspace, phone="0891112222")
    assert can_contact(workspace, phone, "marketing", "sms")["allowed"] is True
    assert can_contact(workspace, phone, "analytics")["reason"] == "withdrawn"
    state = workspace.client.get(
        f"/api/privacy/profiles/{nok}/consents", headers=workspace.auth
    ).json()
    assert state["history"][0]["notice_version"] == "2025-06"
    assert state["history"][0]["recorded_at"].startswith("2025-06-01T03:00:00")

    again = _import(workspace, CSV)
    assert again["body"]["events_logged"] == 0
    workspace.drain()
    assert _records(workspace) == 3


def test_a_grant_repeated_after_a_withdrawal_in_one_file_counts(workspace: Workspace) -> None:
    rows = "email,purpose,channel,status\n" + "".join(
        f"flip@example.com,marketing,sms,{status}\n"
        for status in ("granted", "withdrawn", "granted")
    )
    assert _import(workspace, rows)["body"]["events_logged"] == 3
    workspace.drain()
    pid = profile_id(workspace, email="flip@example.com")
    assert can_contact(workspace, pid, "marketing", "sms")["allowed"] is True


def test_a_csv_with_bad_rows_names_them_and_imports_nothing(workspace: Workspace) -> None:
    bad = CSV + "nobody@example.com,,marketing,fax,granted,,\n,,analytics,,granted,,\n"
    result = _import(workspace, bad)
    assert result["status"] == 400
    detail = result["body"]["detail"]
    assert detail.startswith("nothing was imported")
    assert "line 5:" in detail
    assert "got 'fax'" in detail
    assert "line 6: give at least one of" in detail
    no_ids = _import(workspace, "purpose,status\nanalytics,granted\n")
    assert "identifier column" in no_ids["body"]["detail"]
    not_utf8 = workspace.client.post(
        "/api/privacy/consents/import",
        content="email,purpose,status\nก@x.com,analytics,granted\n".encode("tis-620"),
        headers=workspace.auth | {"Content-Type": "text/csv"},
    )
    assert not_utf8.status_code == 400
    assert "UTF-8" in not_utf8.json()["detail"]
    with workspace.runtime.db.reading() as session:
        assert collect.count_events(session) == 0


def _link(ws: Workspace, pid: str) -> str:
    response = ws.client.post(f"/api/privacy/profiles/{pid}/preference-link", headers=ws.auth)
    assert response.status_code == 200
    url: str = response.json()["url"]
    assert url.startswith("http://127.0.0.1:8000/preferences/")
    return url.removeprefix("http://127.0.0.1:8000")


def test_the_preference_page_shows_and_saves_choices_in_thai(workspace: Workspace) -> None:
    send(workspace, identify("P1", email="pref@example.com", name="ปรีดา"))
    pid = profile_id(workspace, email="pref@example.com")
    grant(workspace, pid, {"purpose": "marketing", "channel": "line", "status": "granted"})
    path = _link(workspace, pid)
    page = workspace.client.get(path)
    assert page.status_code == 200
    html = page.text
    assert '<html lang="th">' in html
    assert "การตั้งค่าความเป็นส่วนตัว" in html
    assert "p***@example.com" in html
    assert "pref@example.com" not in html
    assert re.search(r'value="marketing:line" checked', html)
    assert re.search(r'value="marketing:email">', html)
    assert re.search(r'value="service:sms" checked', html)

    saved = workspace.client.post(
        path, data={"slot": ["marketing:email", "service:sms", "analytics:"]}
    )
    assert saved.status_code == 200
    assert "บันทึกการตั้งค่าแล้ว" in saved.text
    assert can_contact(workspace, pid, "marketing", "email")["allowed"] is True
    assert can_contact(workspace, pid, "analytics")["allowed"] is True
    assert can_contact(workspace, pid, "marketing", "line")["reason"] == "withdrawn"
    assert can_contact(workspace, pid, "service", "email")["reason"] == "withdrawn"
    history = workspace.client.get(
        f"/api/privacy/profiles/{pid}/consents", headers=workspace.auth
    ).json()["history"]
    assert {r["source"] for r in history[:-1]} == {"preference_page"}
    assert {r["recorded_by"] for r in history[:-1]} == {f"customer:{pid}"}

    english = workspace.client.get(path, params={"lang": "en"})
    assert "Your privacy choices" in english.text


def test_one_click_unsubscribe_withdraws_all_marketing(workspace: Workspace) -> None:
    send(workspace, identify("P2", email="unsub@example.com"))
    pid = profile_id(workspace, email="unsub@example.com")
    for channel in ("email", "sms", "line"):
        grant(workspace, pid, {"purpose": "marketing", "channel": channel, "status": "granted"})
    path = _link(workspace, pid)
    response = workspace.client.post(f"{path}/unsubscribe", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "ยกเลิกการรับข่าวสารแล้ว" in response.text
    for channel in ("email", "sms", "line"):
        assert can_contact(workspace, pid, "marketing", channel)["reason"] == "withdrawn"
    assert can_contact(workspace, pid, "service", "email")["allowed"] is True


def test_a_forged_or_expired_link_changes_nothing(workspace: Workspace) -> None:
    send(workspace, identify("P3", email="old@example.com"))
    pid = profile_id(workspace, email="old@example.com")
    path = _link(workspace, pid)
    forged = workspace.client.post(path[:-3] + "xyz/unsubscribe")
    assert forged.status_code == 404
    assert "ลิงก์นี้ใช้ไม่ได้" in forged.text
    with workspace.runtime.db.transaction() as session:
        token = path.rsplit("/", 1)[1]
        assert consent.profile_of_token(session, token=token, valid_days=90) == pid
        old = consent.preference_link(
            session,
            profile_id=pid,
            public_url="https://shop.example",
            valid_days=90,
            clock=lambda: system_clock() - timedelta(days=91),
        )
    expired = workspace.client.get(old.url.removeprefix("https://shop.example"))
    assert expired.status_code == 404
    assert "expired" in expired.text
    assert _records(workspace) == 0
