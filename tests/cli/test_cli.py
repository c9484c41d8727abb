"""The ``sampan`` command line, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sampan.access import service as access
from sampan.collect import service as collect
from sampan.profiles import service as profiles
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.conftest import free_port


def sampan(
    *args: str, data_dir: Path, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAMPAN_DATA_DIR": str(data_dir)}
    env.pop("SAMPAN_DATABASE_URL", None)
    if database_url:
        env["SAMPAN_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "sampan.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def json_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    data: dict[str, Any] = json.loads(lines[0])
    return data


def test_init_creates_the_default_sqlite_workspace_once(tmp_path: Path) -> None:
    first = json_of(sampan("init", "--json", data_dir=tmp_path))
    assert first["api_key"].startswith("sk_")
    assert first["write_key"].startswith("wk_")
    assert first["source_id"].startswith("src_")
    assert first["database_url"] == f"sqlite:///{(tmp_path / 'sampan.db').resolve()}"
    assert (tmp_path / "sampan.db").exists()
    second = json_of(sampan("init", "--json", data_dir=tmp_path))
    assert second["created"] is False
    assert second["api_key"] is None
    assert second["source_id"] == first["source_id"]
    plain = sampan("init", data_dir=tmp_path)
    assert plain.returncode == 0
    assert "already initialised" in plain.stdout


@pytest.mark.parametrize("kind", ["line", "pos"])
def test_sources_create_prints_the_write_key_as_json(
    tmp_path: Path, database_url: str, kind: str
) -> None:
    created = json_of(
        sampan(
            "sources",
            "create",
            "สาขาสยาม",
            "--kind",
            kind,
            "--json",
            data_dir=tmp_path,
            database_url=database_url,
        )
    )
    assert set(created) == {"id", "name", "kind", "write_key"}
    assert (created["name"], created["kind"]) == ("สาขาสยาม", kind)
    listed = json_of(
        sampan("sources", "list", "--json", data_dir=tmp_path, database_url=database_url)
    )
    assert created["id"] in [s["id"] for s in listed["sources"]]
    disabled = sampan(
        "sources", "disable", created["id"], data_dir=tmp_path, database_url=database_url
    )
    assert disabled.returncode == 0
    listed = json_of(
        sampan("sources", "list", "--json", data_dir=tmp_path, database_url=database_url)
    )
    assert [s["enabled"] for s in listed["sources"] if s["id"] == created["id"]] == [False]


def test_unknown_source_kind_is_refused_with_the_allowed_kinds(tmp_path: Path) -> None:
    result = sampan("sources", "create", "x", "--kind", "fax", data_dir=tmp_path)
    assert result.returncode == 2
    assert "kind must be one of web, app, pos, line" in result.stdout


def test_keys_create_issues_a_working_new_admin_key(tmp_path: Path) -> None:
    json_of(sampan("init", "--json", data_dir=tmp_path))
    key = json_of(sampan("keys", "create", "--name", "crm-team", "--json", data_dir=tmp_path))
    assert key["api_key"].startswith("sk_")
    assert key["name"] == "crm-team"


def test_demo_loads_through_the_api_once_and_every_customer_becomes_one_profile(
    tmp_path: Path,
) -> None:
    args = (
        "demo",
        "--customers",
        "60",
        "--seed",
        "3",
        "--no-serve",
        "--port",
        str(free_port()),
        "--end",
        "2026-06-30T12:00:00",
    )
    first = sampan(*args, data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Sampan demo is ready" in first.stdout
    assert first.stdout.count("Write key") == 4
    assert "as admin@sampan.local, password sampan-demo-2026" in first.stdout
    assert "marketer@sampan.local" in first.stdout
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path))
    try:
        with runtime.db.reading() as session:
            events = collect.count_events(session)
            people = profiles.search_profiles(
                session, query="", rules=runtime.rules, currency="THB", limit=1
            ).total
            logged = collect.read_events_after(session, after_seq=0, limit=100_000)
            users = {(u.email, u.role) for u in access.list_users(session)}
        assert events > 60 * 10
        assert people == 60
        assert ("admin@sampan.local", "admin") in users
        assert ("privacy_officer@sampan.local", "privacy_officer") in users
        assert len(users) == 7
        # --end is local (Asia/Bangkok) time: nothing lies after 2026-06-30 05:00 UTC.
        assert max(e.timestamp_ms for e in logged) <= 1782795600000
        second = sampan(*args, data_dir=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "already loaded" in second.stdout
        with runtime.db.reading() as session:
            assert collect.count_events(session) == events
    finally:
        runtime.dispose()
