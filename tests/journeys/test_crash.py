"""SIGKILL the journey worker at random moments with thousands of runs in flight."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sampan.journeys.models import Run, Step
from tests.messaging.conftest import Kit, start_process

PEOPLE = 2000
WAIT_SECONDS = 3
# How late a timer may fire beyond the downtime: the worker's time to work through
# thousands of timers that came due together, and to start again after each kill.
SLACK_SECONDS = 4.0


def _worker(kit: Kit, tmp_path: Path) -> subprocess.Popen[str]:
    return start_process(kit, tmp_path, "tests.journeys.worker_process", "running")


def _counts(kit: Kit) -> Counter[str]:
    with kit.runtime.db.reading() as session:
        return Counter(
            dict(session.execute(select(Run.status, func.count()).group_by(Run.status)).all())
        )


def _start_runs(kit: Kit) -> str:
    """Publish the journey and start a run for each of PEOPLE people; return its id."""
    journey = {
        "entry": {"type": "event", "event": "Signed Up"},
        "start": "hello",
        "nodes": [
            {
                "id": "hello",
                "type": "send",
                "template": "welcome",
                "channels": ["line-oa"],
                "next": "pause",
            },
            {"id": "pause", "type": "wait", "duration": f"{WAIT_SECONDS}s", "next": "done"},
            {"id": "done", "type": "emit", "event": "Welcomed"},
        ],
    }
    created = kit.api("POST", "/api/journeys", json={"name": "crash", "definition": journey})
    assert created.status_code == 201, created.text
    journey_id = str(created.json()["id"])
    assert kit.api("POST", f"/api/journeys/{journey_id}/publish").status_code == 200
    users: list[str] = []
    for _ in range(PEOPLE // 250):
        users += kit.crowd(250, "jcrash", consents=("line",))
    for start in range(0, PEOPLE, 250):
        batch = [
            {"type": "track", "userId": user, "event": "Signed Up"}
            for user in users[start : start + 250]
        ]
        response = kit.ws.client.post(
            "/v1/batch", json={"batch": batch}, headers={"X-Write-Key": kit.ws.write_key}
        )
        assert response.status_code == 200
    kit.ws.drain()
    assert _counts(kit)["active"] == PEOPLE
    return journey_id


def _each_step_once(kit: Kit, journey_id: str) -> list[float]:
    """Check every run took each step once and each person got one push; return lateness."""
    assert _counts(kit) == Counter({"completed": PEOPLE})
    with kit.runtime.db.reading() as session:
        steps = session.execute(
            select(Step.run_id, Step.node_id, Step.outcome, Step.at)
            .where(Step.journey_id == journey_id)
            .order_by(Step.id)
        ).all()
    paths: dict[str, list[tuple[str, str]]] = {}
    timers: dict[str, dict[str, float]] = {}
    for run_id, node_id, outcome, at in steps:
        paths.setdefault(run_id, []).append((node_id, outcome))
        if node_id == "pause":
            timers.setdefault(run_id, {})[outcome] = at.timestamp()
    expected = [
        ("entry", "entered"),
        ("hello", "queued"),
        ("pause", "waiting"),
        ("pause", "waited"),
        ("done", "emitted"),
    ]
    # No step lost, none done twice.
    wrong = {run_id: path for run_id, path in paths.items() if path != expected}
    assert wrong == {}
    assert len(paths) == PEOPLE
    # No message twice: LINE received exactly one push per person.
    deliveries = Counter(a["to"] for a in kit.line.accepted)
    assert len(deliveries) == PEOPLE
    assert set(deliveries.values()) == {1}
    return [t["waited"] - t["waiting"] - WAIT_SECONDS for t in timers.values()]


def test_killed_and_restarted_the_worker_loses_no_step_and_sends_nothing_twice(
    kit: Kit, tmp_path: Path
) -> None:
    journey_id = _start_runs(kit)
    rng = random.Random(7)
    downtime = 0.0
    kills = 0
    deadline = time.monotonic() + 240
    worker = _worker(kit, tmp_path)
    try:
        while _counts(kit)["completed"] < PEOPLE:
            assert time.monotonic() < deadline, f"runs still in flight: {_counts(kit)}"
            if kills < 6:
                time.sleep(rng.uniform(0.2, 1.0))
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                killed_at = time.monotonic()
                kills += 1
                time.sleep(rng.uniform(0.0, 0.5))
                worker = _worker(kit, tmp_path)
                downtime += time.monotonic() - killed_at
            else:
                time.sleep(0.2)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    lateness = max(_each_step_once(kit, journey_id))
    # Timers fired late by at most the downtime, give or take the catching up.
    assert lateness <= downtime + SLACK_SECONDS, (lateness, downtime, kills)


def test_two_workers_share_the_runs_and_do_nothing_twice(kit: Kit, tmp_path: Path) -> None:
    if kit.runtime.db.is_sqlite:
        pytest.skip("several workers are for PostgreSQL; SQLite runs one in-process worker")
    journey_id = _start_runs(kit)
    workers = [_worker(kit, tmp_path) for _ in range(2)]
    deadline = time.monotonic() + 240
    try:
        while _counts(kit)["completed"] < PEOPLE:
            assert time.monotonic() < deadline, f"runs still in flight: {_counts(kit)}"
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=10)
    assert max(_each_step_once(kit, journey_id)) <= SLACK_SECONDS
