"""Accepted events survive a SIGKILL of the server, and the pipeline resumes exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sampan.collect import service as collect
from sampan.profiles import service as profiles
from sampan.runtime import Runtime
from sampan.settings import Settings
from tests.conftest import free_port


def start_server(data_dir: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SAMPAN_DATA_DIR": str(data_dir), "SAMPAN_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sampan.cli", "serve", "--port", str(port)], env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def init(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {**os.environ, "SAMPAN_DATA_DIR": str(data_dir), "SAMPAN_DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-m", "sampan.cli", "init", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, str] = json.loads(result.stdout)
    return data


def batch(start: int, count: int) -> dict[str, object]:
    return {
        "batch": [
            {
                "type": "track",
                "userId": f"M{i % 50}",
                "event": "Product Viewed",
                "messageId": f"k-{i}",
                "properties": {"category": "serum"},
            }
            for i in range(start, start + count)
        ]
    }


def send_all(client: httpx.Client, write_key: str) -> int:
    """Send 2,000 events in batches of 100; return how many were accepted."""
    for n in range(20):
        response = client.post(
            "/v1/batch", json=batch(n * 100, 100), headers={"X-Write-Key": write_key}
        )
        assert response.status_code == 200
    return 2000


@pytest.mark.timeout(180)
def test_sigkill_loses_no_accepted_event_and_profiles_count_each_once(
    tmp_path: Path, database_url: str
) -> None:
    keys = init(tmp_path, database_url)
    port = free_port()
    server = start_server(tmp_path, database_url, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            accepted = send_all(client, keys["write_key"])
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    # Restart and resend everything, as a client retrying after the crash would.
    server = start_server(tmp_path, database_url, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            send_all(client, keys["write_key"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                report = client.get(
                    "/api/pipeline", headers={"Authorization": f"Bearer {keys['api_key']}"}
                ).json()
                if report["backlog"] == 0:
                    break
                time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    runtime = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        with runtime.db.reading() as session:
            assert collect.count_events(session) == accepted
            total = sum(
                profiles.search_profiles(
                    session, query="", rules=runtime.rules, currency="THB", limit=200
                )
                .items[i]
                .computed["event_count"]
                for i in range(50)
            )
        assert total == accepted
    finally:
        runtime.dispose()
