"""``sampan users`` and ``sampan keys create --role``, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from sampan.api.app import create_app
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.cli.test_cli import json_of, sampan


def sampan_with_stdin(
    *args: str, stdin: str, data_dir: Path, database_url: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAMPAN_DATA_DIR": str(data_dir), "SAMPAN_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "sampan.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_users_create_reads_the_password_from_stdin_and_the_user_can_log_in(
    tmp_path: Path, database_url: str
) -> None:
    created = json_of(
        sampan_with_stdin(
            "users",
            "create",
            "--email",
            "Nun@Example.co.th",
            "--name",
            "นุ่น สาขาสยาม",
            "--role",
            "store_staff",
            "--password-stdin",
            "--json",
            stdin="ดอกไม้บาน-2026\n",
            data_dir=tmp_path,
            database_url=database_url,
        )
    )
    assert (created["email"], created["name"], created["role"]) == (
        "nun@example.co.th",
        "นุ่น สาขาสยาม",
        "store_staff",
    )
    listed = json_of(
        sampan("users", "list", "--json", data_dir=tmp_path, database_url=database_url)
    )
    assert [u["email"] for u in listed["users"]] == ["nun@example.co.th"]
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with TestClient(create_app(runtime, run_worker=False)) as client:
            login = client.post(
                "/api/auth/login",
                json={"email": "nun@example.co.th", "password": "ดอกไม้บาน-2026"},
            )
            assert login.status_code == 200, login.text
            me = client.get("/api/auth/me").json()
            assert me["role"] == "store_staff"
    finally:
        runtime.dispose()


def test_users_create_refuses_a_weak_password_with_exit_code_2(
    tmp_path: Path, database_url: str
) -> None:
    result = sampan_with_stdin(
        "users",
        "create",
        "--email",
        "a@example.co.th",
        "--name",
        "A",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="short\n",
        data_dir=tmp_path,
        database_url=database_url,
    )
    assert result.returncode == 2
    assert "password is too short" in result.stdout
    listed = json_of(
        sampan("users", "list", "--json", data_dir=tmp_path, database_url=database_url)
    )
    assert listed["users"] == []


def test_keys_create_issues_a_key_with_a_role_and_an_expiry(tmp_path: Path) -> None:
    key = json_of(
        sampan(
            "keys",
            "create",
            "--name",
            "bi-tool",
            "--role",
            "analyst",
            "--expires-in-days",
            "30",
            "--json",
            data_dir=tmp_path,
        )
    )
    assert (key["name"], key["role"]) == ("bi-tool", "analyst")
    assert key["expires_at"] is not None
    refused = sampan("keys", "create", "--role", "boss", data_dir=tmp_path)
    assert refused.returncode == 2
    assert "unknown role 'boss'" in refused.stdout
