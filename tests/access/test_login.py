"""Console log-in: session cookie, CSRF, rate limit and lock-out (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sampan.access import service as access
from sampan.api.app import create_app
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.conftest import make_workspace

PASSWORD = "ดอกไม้บาน-2026"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class Console:
    client: TestClient
    runtime: Runtime
    clock: FakeClock
    api_key: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def user(self, role: str = "admin", email: str | None = None) -> str:
        email = email or f"{role}@example.co.th"
        with self.runtime.db.transaction() as session:
            access.create_user(
                session, email=email, name=f"คุณ {role}", role=role, password=PASSWORD
            )
        return email

    def login(self, email: str, password: str = PASSWORD) -> Any:
        return self.client.post("/api/auth/login", json={"email": email, "password": password})

    def audit(self, action: str) -> list[dict[str, Any]]:
        with self.runtime.db.reading() as session:
            page = access.list_audit(session, action=action)
        return [e.model_dump(mode="json") for e in page.items]


def open_console(database_url: str, tmp_path: Path, **settings: Any) -> Iterator[Console]:
    runtime = Runtime.from_settings(
        Settings(data_dir=tmp_path, database_url=database_url, **settings)
    )
    api_key, _, _ = make_workspace(runtime)
    clock = FakeClock()
    try:
        with TestClient(create_app(runtime, run_worker=False, clock=clock)) as client:
            yield Console(client, runtime, clock, api_key)
    finally:
        runtime.dispose()


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[Console]:
    yield from open_console(
        database_url,
        tmp_path,
        login_max_failures=3,
        login_lockout_minutes=15,
        session_ttl_minutes=60,
        login_attempts_per_minute=1000,
    )


def test_login_sets_an_httponly_strict_cookie_and_returns_a_csrf_token(console: Console) -> None:
    email = console.user("service_agent", email="  Nun@Example.co.th ")
    assert email.strip().lower() == "nun@example.co.th"
    response = console.login("nun@example.co.th")
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sampan_session=ss_")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie
    assert "Max-Age=3600" in cookie
    body = response.json()
    assert set(body) == {"user", "csrf_token", "expires_at"}
    assert body["user"]["email"] == "nun@example.co.th"
    assert body["user"]["role"] == "service_agent"
    assert "password_hash" not in body["user"]
    me = console.client.get("/api/auth/me").json()
    assert (me["kind"], me["role"]) == ("user", "service_agent")
    assert "pii:read" in me["permissions"]


def test_the_secure_flag_follows_the_setting(database_url: str, tmp_path: Path) -> None:
    for console in open_console(database_url, tmp_path, session_cookie_secure=True):
        console.user("admin")
        response = console.login("admin@example.co.th")
        assert "Secure" in response.headers["set-cookie"]


def test_cookie_writes_need_the_csrf_token(console: Console) -> None:
    console.login(console.user("admin"))
    csrf = console.login("admin@example.co.th").json()["csrf_token"]
    body = {"name": "from the console", "role": "analyst"}
    before = len(console.client.get("/api/keys").json())
    missing = console.client.post("/api/keys", json=body)
    assert missing.status_code == 403
    assert missing.json() == {
        "detail": "missing CSRF token: send the csrf_token of the login answer in X-CSRF-Token"
    }
    wrong = console.client.post("/api/keys", json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert len(console.client.get("/api/keys").json()) == before
    right = console.client.post("/api/keys", json=body, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201
    assert right.json()["created_by"].startswith("usr_")


def test_the_csrf_token_of_another_session_is_refused(console: Console) -> None:
    console.user("admin")
    first = console.login("admin@example.co.th").json()["csrf_token"]
    console.login("admin@example.co.th")
    refused = console.client.post(
        "/api/keys", json={"name": "x", "role": "analyst"}, headers={"X-CSRF-Token": first}
    )
    assert refused.status_code == 403


def test_wrong_password_and_unknown_email_get_the_same_answer(console: Console) -> None:
    console.user("analyst")
    wrong = console.login("analyst@example.co.th", "not the password")
    unknown = console.login("nobody@example.co.th", PASSWORD)
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert wrong.json() == unknown.json() == {"detail": "wrong e-mail or password"}
    assert "set-cookie" not in wrong.headers
    failures = console.audit("login.failed")
    assert [e["detail"]["reason"] for e in failures] == ["unknown_email", "wrong_password"]
    assert failures[0]["subject_id"] is None
    assert "nobody" not in str(failures)


def test_an_account_locks_after_consecutive_failures_even_for_the_right_password(
    console: Console,
) -> None:
    email = console.user("marketer")
    for _ in range(2):
        assert console.login(email, "wrong password").json() == {
            "detail": "wrong e-mail or password"
        }
    locked = console.login(email, "wrong password")
    assert locked.status_code == 401
    assert locked.json()["detail"].startswith(
        "this account is locked after 3 failed log-ins in a row, until "
    )
    refused = console.login(email)
    assert refused.status_code == 401
    assert refused.json() == locked.json()
    assert "set-cookie" not in refused.headers
    assert [e["detail"]["reason"] for e in console.audit("login.failed")][0] == "locked"
    assert len(console.audit("login.locked")) == 1
    console.clock.advance(16)
    assert console.login(email).status_code == 200


def test_a_lock_out_holds_for_every_server_process(console: Console, tmp_path: Path) -> None:
    email = console.user("marketer")
    for _ in range(3):
        console.login(email, "wrong password")
    with TestClient(create_app(console.runtime, run_worker=False, clock=console.clock)) as other:
        refused = other.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 401
    assert "locked" in refused.json()["detail"]


def test_a_success_resets_the_count_of_failures(console: Console) -> None:
    email = console.user("analyst")
    for _ in range(2):
        console.login(email, "wrong password")
    assert console.login(email).status_code == 200
    for _ in range(2):
        console.login(email, "wrong password")
    assert console.login(email).status_code == 200
    assert console.audit("login.locked") == []


def test_a_new_password_from_an_admin_lifts_a_lock_out(console: Console) -> None:
    email = console.user("store_staff")
    for _ in range(3):
        console.login(email, "wrong password")
    user_id = console.audit("login.locked")[0]["subject_id"]
    reset = console.client.patch(
        f"/api/users/{user_id}", json={"password": "ใหม่-และ-ยาวพอ"}, headers=console.admin
    )
    assert reset.status_code == 200
    assert reset.json()["locked_until"] is None
    assert console.login(email).status_code == 401
    assert console.login(email, "ใหม่-และ-ยาวพอ").status_code == 200


def test_log_in_attempts_from_one_address_are_rate_limited(
    database_url: str, tmp_path: Path
) -> None:
    for console in open_console(database_url, tmp_path, login_attempts_per_minute=3):
        email = console.user("analyst")
        for _ in range(3):
            assert console.login(email, "wrong password").status_code == 401
        limited = console.login(email)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        assert limited.json()["detail"].startswith("too many log-in attempts from this address")
        assert len(console.audit("login.*")) == 3


def test_log_out_ends_the_session(console: Console) -> None:
    csrf = console.login(console.user("analyst")).json()["csrf_token"]
    token = console.client.cookies["sampan_session"]
    assert console.client.post("/api/auth/logout").status_code == 403
    response = console.client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert 'sampan_session=""' in response.headers["set-cookie"]
    console.client.cookies.clear()
    console.client.cookies.set("sampan_session", token)
    replayed = console.client.get("/api/auth/me")
    assert replayed.status_code == 401
    assert replayed.json() == {"detail": "your session has ended: log in again"}


def test_a_session_expires(console: Console) -> None:
    console.login(console.user("analyst"))
    assert console.client.get("/api/auth/me").status_code == 200
    console.clock.advance(61)
    assert console.client.get("/api/auth/me").status_code == 401


def test_disabling_a_user_ends_their_sessions_and_refuses_their_login(console: Console) -> None:
    email = console.user("service_agent")
    user_id = console.login(email).json()["user"]["id"]
    assert console.client.get("/api/profiles").status_code == 200
    disabled = console.client.patch(
        f"/api/users/{user_id}", json={"disabled": True}, headers=console.admin
    )
    assert disabled.status_code == 200
    assert console.client.get("/api/profiles").status_code == 401
    console.client.cookies.clear()
    refused = console.login(email)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "this account is disabled: ask an admin to enable it"}


def test_a_changed_role_applies_to_a_live_session(console: Console) -> None:
    user_id = console.login(console.user("analyst")).json()["user"]["id"]
    assert console.client.get("/api/audit").status_code == 403
    console.client.patch(
        f"/api/users/{user_id}", json={"role": "privacy_officer"}, headers=console.admin
    )
    assert console.client.get("/api/audit").status_code == 200


def test_a_marketer_user_cannot_manage_users(console: Console) -> None:
    csrf = console.login(console.user("marketer")).json()["csrf_token"]
    assert console.client.get("/api/users").status_code == 403
    created = console.client.post(
        "/api/users",
        json={"email": "x@example.co.th", "name": "x", "role": "admin", "password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 403
    assert [u.email for u in list_users(console)] == ["marketer@example.co.th"]


def list_users(console: Console) -> list[Any]:
    with console.runtime.db.reading() as session:
        return access.list_users(session)
