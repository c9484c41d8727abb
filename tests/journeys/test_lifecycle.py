"""Publishing, versions, pausing, archiving, re-entry, segments and metrics."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from tests.journeys.conftest import Journeys

USER = "U" + "c" * 32


def welcome(**changes: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "entry": {"type": "event", "event": "Signed Up"},
        "start": "pause",
        "nodes": [
            {"id": "pause", "type": "wait", "duration": "1d", "next": "hello"},
            {"id": "hello", "type": "send", "template": "welcome", "channels": ["line-oa"]},
        ],
    }
    return definition | changes


def test_validation_names_every_problem_at_its_path(journeys: Journeys) -> None:
    bad = welcome(
        nodes=[
            {"id": "pause", "type": "wait", "duration": "soon", "next": "hello"},
            {"id": "hello", "type": "send", "template": "nope", "channels": ["fax"]},
            {"id": "lost", "type": "exit"},
        ]
    )
    shape = journeys.api("POST", "/api/journeys/validate", json={"definition": bad}).json()
    assert shape["valid"] is False
    assert [p["path"] for p in shape["problems"]] == ["nodes[0].duration"]
    bad["nodes"][0]["duration"] = "1h"
    found = journeys.api("POST", "/api/journeys/validate", json={"definition": bad}).json()
    assert {(p["path"], p["message"]) for p in found["problems"]} == {
        ("nodes[2]", "'lost' cannot be reached from the start"),
    }
    del bad["nodes"][2]
    found = journeys.api("POST", "/api/journeys/validate", json={"definition": bad}).json()
    assert {(p["path"], p["message"]) for p in found["problems"]} == {
        ("nodes[1].template", "no template named 'nope'"),
        ("nodes[1].channels[0]", "no channel named 'fax'"),
    }
    created = journeys.api("POST", "/api/journeys", json={"name": "j", "definition": bad})
    assert created.status_code == 201
    refused = journeys.api("POST", f"/api/journeys/{created.json()['id']}/publish")
    assert refused.status_code == 400
    assert "no template named 'nope'" in refused.json()["detail"]
    malformed = journeys.api("POST", "/api/journeys", json={"name": "k", "definition": {}})
    assert malformed.status_code == 400
    assert "entry: Field required" in malformed.json()["detail"]
    twice = journeys.api("POST", "/api/journeys", json={"name": "j", "definition": welcome()})
    assert twice.status_code == 409
    reserved = welcome(start="goal")
    reserved["nodes"][0]["id"] = "goal"
    found = journeys.api("POST", "/api/journeys/validate", json={"definition": reserved}).json()
    assert found["problems"] == [
        {"path": "nodes[0].id", "message": "'goal' is reserved for the run's own steps: rename it"}
    ]


def test_pausing_holds_timers_and_resuming_fires_them(journeys: Journeys) -> None:
    pid = journeys.person("Kaew", line_user_id=USER, consents=("line",))
    journey = journeys.publish(welcome())
    journeys.track(pid, "Signed Up")
    assert journeys.api("POST", f"/api/journeys/{journey}/pause").json()["status"] == "paused"
    other = journeys.person("Ton", line_user_id="U" + "d" * 32, consents=("line",))
    journeys.track(other, "Signed Up")
    assert len(journeys.runs(journey)) == 1
    journeys.wait(days=2)
    assert journeys.line_texts() == []
    assert journeys.api("POST", f"/api/journeys/{journey}/resume").json()["status"] == "live"
    journeys.settle()
    assert journeys.line_texts() == ["สวัสดีคุณKaew"]


def test_archiving_ends_the_runs_in_flight(journeys: Journeys) -> None:
    pid = journeys.person("Nok", line_user_id=USER, consents=("line",))
    journey = journeys.publish(welcome())
    journeys.track(pid, "Signed Up")
    archived = journeys.api("POST", f"/api/journeys/{journey}/archive")
    assert archived.json()["status"] == "archived"
    [run] = journeys.runs(journey)
    assert run["status"] == "exited"
    assert run["reason"] == "the journey was archived"
    journeys.wait(days=2)
    assert journeys.line_texts() == []
    again = journeys.api("POST", f"/api/journeys/{journey}/publish")
    assert again.status_code == 409


@pytest.mark.parametrize("migrate", [False, True])
def test_runs_keep_their_version_unless_the_new_one_migrates_them(
    journeys: Journeys, migrate: bool
) -> None:
    pid = journeys.person("Fah", line_user_id=USER, consents=("line",))
    journey = journeys.publish(welcome())
    journeys.track(pid, "Signed Up")
    second = welcome(migrate_runs=migrate)
    second["nodes"][1]["next"] = "mark"
    second["nodes"].append({"id": "mark", "type": "emit", "event": "Welcomed"})
    body = {"name": "welcome v2", "definition": second}
    assert journeys.api("PUT", f"/api/journeys/{journey}", json=body).status_code == 200
    published = journeys.api("POST", f"/api/journeys/{journey}/publish").json()
    assert published["version"] == 2
    journeys.wait(days=1, minutes=1)
    [run] = journeys.runs(journey)
    assert run["version"] == (2 if migrate else 1)
    outcomes = [s["node_id"] for s in journeys.run(run["id"])["steps"]]
    assert ("mark" in outcomes) is migrate
    assert journeys.line_texts() == ["สวัสดีคุณFah"]


@pytest.mark.parametrize(
    ("reentry", "expected"),
    [({"policy": "never"}, 1), ({"policy": "always"}, 3), ({"policy": "after", "days": 2}, 2)],
)
def test_reentry_policies(journeys: Journeys, reentry: dict[str, Any], expected: int) -> None:
    pid = journeys.person("Dao", line_user_id=USER)
    quick = {
        "entry": {"type": "event", "event": "Visited"},
        "reentry": reentry,
        "start": "e",
        "nodes": [{"id": "e", "type": "emit", "event": "Greeted"}],
    }
    journey = journeys.publish(quick)
    for _ in range(3):
        journeys.track(pid, "Visited")
        journeys.wait(days=1, hours=1)
    assert len(journeys.runs(journey)) == expected


def test_max_entries_caps_the_runs(journeys: Journeys) -> None:
    people = [journeys.person(f"P{i}", line_user_id=f"U{i:032d}") for i in range(3)]
    journey = journeys.publish(
        {
            "entry": {"type": "event", "event": "Visited"},
            "max_entries": 2,
            "start": "e",
            "nodes": [{"id": "e", "type": "emit", "event": "Greeted"}],
        }
    )
    for pid in people:
        journeys.track(pid, "Visited")
    assert len(journeys.runs(journey)) == 2


def test_entering_a_segment_starts_and_leaving_it_ends_a_run(journeys: Journeys) -> None:
    segment = journeys.api(
        "POST",
        "/api/segments",
        json={"name": "VIP", "condition": {"trait": "tier", "op": "eq", "value": "vip"}},
    ).json()["id"]
    journey = journeys.publish(
        {
            "entry": {"type": "segment", "segment": segment},
            "exit": {"segment_left": segment},
            "start": "wait",
            "nodes": [
                {"id": "wait", "type": "wait", "duration": "3d", "next": "invite"},
                {"id": "invite", "type": "emit", "event": "VIP Invited"},
            ],
        }
    )
    pid = journeys.person("Boonmee", line_user_id=USER, traits={"tier": "vip"})
    journeys.settle()
    [run] = journeys.runs(journey)
    assert run["status"] == "active"
    assert run["node_id"] == "wait"
    user = journeys.user_of(pid)
    downgrade = {"type": "identify", "userId": user, "traits": {"tier": "gold"}}
    response = journeys.kit.ws.client.post(
        "/v1/identify", json=downgrade, headers={"X-Write-Key": journeys.kit.ws.write_key}
    )
    assert response.status_code == 200
    journeys.settle()
    [run] = journeys.runs(journey)
    assert run["status"] == "exited"
    assert run["reason"] == f"left segment {segment}"


def test_metrics_count_nodes_goals_and_uplift_against_the_holdout(journeys: Journeys) -> None:
    journey = journeys.publish(
        {
            "entry": {"type": "event", "event": "Signed Up"},
            "goal": {"event": "Order Completed", "window_days": 7},
            "start": "hold",
            "nodes": [
                {"id": "hold", "type": "holdout", "percent": 30, "next": "split"},
                {
                    "id": "split",
                    "type": "split",
                    "paths": [
                        {"name": "A", "weight": 1, "next": "wait"},
                        {"name": "B", "weight": 1, "next": "wait"},
                    ],
                },
                {"id": "wait", "type": "wait", "duration": "1d", "next": "hello"},
                {"id": "hello", "type": "send", "template": "welcome", "channels": ["line-oa"]},
            ],
        }
    )
    people = [
        journeys.person(f"P{i}", line_user_id=f"U{i:032d}", consents=("line",)) for i in range(40)
    ]
    for pid in people:
        journeys.track(pid, "Signed Up")
    metrics = journeys.metrics(journey)
    assert metrics["entered"] == 40
    held = metrics["held_out"]
    assert 0 < held < 40
    nodes = {n["node_id"]: n for n in metrics["nodes"]}
    assert nodes["hold"]["outcomes"] == {"held_out": held, "treated": 40 - held}
    assert nodes["wait"]["waiting"] == 40 - held
    assert sum(nodes["split"]["outcomes"].values()) == 40 - held
    for pid in people[:10]:
        journeys.track(pid, "Order Completed", revenue=100)
    journeys.wait(days=1, minutes=1)
    metrics = journeys.metrics(journey)
    arms = {arm["arm"]: arm for arm in metrics["arms"]}
    # Converting ends the run (the goal's exit defaults to true): they get no message.
    assert metrics["nodes"][3]["messages"] == {"sent": 40 - held - arms["treated"]["converted"]}
    assert metrics["exited"] == arms["treated"]["converted"]
    assert arms["treated"]["runs"] + arms["holdout"]["runs"] == 40
    assert arms["treated"]["converted"] + arms["holdout"]["converted"] == 10
    assert arms["treated"]["revenue"] == 100 * arms["treated"]["converted"]
    assert arms["path:A"]["runs"] + arms["path:B"]["runs"] == arms["treated"]["runs"]
    nodes = {n["node_id"]: n for n in metrics["nodes"]}
    # Outcomes without a conversion are left out; the split is random, so a path may have none.
    assert nodes["split"]["converted"] == {
        path: arms[f"path:{path}"]["converted"]
        for path in ("A", "B")
        if arms[f"path:{path}"]["converted"]
    }
    assert nodes["hold"]["converted"] == {
        k: v
        for k, v in {
            "held_out": arms["holdout"]["converted"],
            "treated": arms["treated"]["converted"],
        }.items()
        if v
    }
    [uplift] = [u for u in metrics["uplift"] if u["arm"] == "treated"]
    treated, holdout = arms["treated"], arms["holdout"]
    assert uplift["absolute"] == pytest.approx(
        treated["conversion_rate"] - holdout["conversion_rate"]
    )
    assert uplift["ci_low"] < uplift["absolute"] < uplift["ci_high"]


def test_a_persons_runs_coupons_and_tasks_are_exported_and_erased(journeys: Journeys) -> None:
    pid = journeys.person("Tan", line_user_id=USER)
    journey = journeys.publish(
        {
            "entry": {"type": "event", "event": "Complaint Filed"},
            "start": "c",
            "nodes": [
                {"id": "c", "type": "coupon", "amount": 50, "next": "t"},
                {"id": "t", "type": "task", "team": "care", "title": "โทรหาลูกค้า"},
            ],
        }
    )
    journeys.track(pid, "Complaint Filed")
    response = journeys.api("GET", f"/api/privacy/profiles/{pid}/export")
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    [run] = json.loads(archive.read("journey_runs.json"))
    assert run["journey_id"] == journey
    assert [s["node_id"] for s in run["steps"]] == ["entry", "c", "t"]
    assert len(json.loads(archive.read("coupons.json"))) == 1
    [task] = json.loads(archive.read("tasks.json"))
    assert task["title"] == "โทรหาลูกค้า"
    erased = journeys.api("POST", f"/api/privacy/profiles/{pid}/erase", json={})
    assert erased.status_code in (200, 201), erased.text
    assert journeys.runs(journey) == []
    assert journeys.api("GET", "/api/journeys/tasks", params={"team": "care"}).json() == []


def test_a_birthday_entry_starts_once_a_year_at_nine_local_time(journeys: Journeys) -> None:
    # 03:00 UTC on 24 November is 10:00 in Bangkok: the first tick is tomorrow at 09:00.
    today = journeys.person("Malee", line_user_id=USER, traits={"birthday": "1990-11-24"})
    tomorrow = journeys.person(
        "Nok", line_user_id="U" + "e" * 32, traits={"birthday": "1988-11-25"}
    )
    journeys.person("Ton", line_user_id="U" + "f" * 32, traits={"birthday": "1985-03-01"})
    journey = journeys.publish(
        {
            "entry": {"type": "date", "trait": "birthday", "at": "09:00"},
            "start": "hbd",
            "nodes": [{"id": "hbd", "type": "emit", "event": "Birthday Greeted"}],
        }
    )
    journeys.wait(hours=22)
    assert journeys.runs(journey) == []
    journeys.wait(hours=1)
    [run] = journeys.runs(journey)
    assert run["profile_id"] == tomorrow
    assert run["entry_key"] == "2026"
    assert run["status"] == "completed"
    journeys.wait(hours=1)
    assert len(journeys.runs(journey)) == 1
    journeys.wait(days=364)
    assert {r["profile_id"] for r in journeys.runs(journey)} == {tomorrow, today}


def test_a_schedule_entry_enters_the_segment_each_week(journeys: Journeys) -> None:
    segment = journeys.api(
        "POST",
        "/api/segments",
        json={"name": "Gold", "condition": {"trait": "tier", "op": "eq", "value": "gold"}},
    ).json()["id"]
    people = [
        journeys.person(f"G{i}", line_user_id=f"U{i:032d}", traits={"tier": "gold"})
        for i in range(3)
    ]
    journey = journeys.publish(
        {
            "entry": {
                "type": "schedule",
                "segment": segment,
                "every": "week",
                "weekday": "mon",
                "at": "10:00",
            },
            "reentry": {"policy": "always"},
            "start": "news",
            "nodes": [{"id": "news", "type": "emit", "event": "Weekly News"}],
        }
    )
    # Tuesday 24 November 2026, 10:00 Bangkok: the next Monday 10:00 is in six days.
    journeys.wait(days=5, hours=23)
    assert journeys.runs(journey) == []
    journeys.wait(hours=2)
    assert sorted(r["profile_id"] for r in journeys.runs(journey)) == sorted(people)
    journeys.wait(days=7)
    assert len(journeys.runs(journey)) == 6


def test_a_date_entry_starts_n_days_after_the_last_order(journeys: Journeys) -> None:
    buyer = journeys.person("Ploy", line_user_id=USER)
    journeys.person("Boonmee", line_user_id="U" + "e" * 32)
    journey = journeys.publish(
        {
            "entry": {"type": "date", "computed": "last_order_at", "days_after": 3, "at": "09:00"},
            "start": "refill",
            "nodes": [{"id": "refill", "type": "emit", "event": "Refill Reminded"}],
        }
    )
    # 24 November, 03:00 UTC (10:00 Bangkok): the order; ticks are at 02:00 UTC each day.
    journeys.track(buyer, "Order Completed", order_id="o1", revenue=590)
    journeys.wait(days=2, hours=23, minutes=30)
    assert journeys.runs(journey) == []
    journeys.wait(days=1)
    [run] = journeys.runs(journey)
    assert run["profile_id"] == buyer
    assert run["entry_key"].startswith("last_order_at:2026-11-24T03:00")
    journeys.wait(days=3)
    assert len(journeys.runs(journey)) == 1
    wrong = {"type": "date", "trait": "birthday", "computed": "last_order_at", "days_after": 3}
    found = journeys.api(
        "POST",
        "/api/journeys/validate",
        json={
            "definition": {
                **journeys.api("GET", f"/api/journeys/{journey}").json()["draft"],
                "entry": wrong,
            }
        },
    ).json()
    assert found["problems"] == [
        {"path": "entry", "message": "a date entry takes either trait or computed"},
        {"path": "entry.days_after", "message": "is only for computed; a trait takes days_before"},
    ]


def test_unknown_things_and_wrong_states_answer_precisely(journeys: Journeys) -> None:
    assert journeys.api("GET", "/api/journeys/jrn_nope").status_code == 404
    assert journeys.api("GET", "/api/journeys/runs/run_nope").status_code == 404
    assert journeys.api("GET", "/api/journeys/jrn_nope/metrics").status_code == 404
    missing = journeys.api("POST", "/api/journeys/tasks/tsk_nope/done")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no task tsk_nope"
    draft = journeys.api("POST", "/api/journeys", json={"name": "d", "definition": welcome()})
    journey = draft.json()["id"]
    paused = journeys.api("POST", f"/api/journeys/{journey}/pause")
    assert paused.status_code == 409
    assert paused.json()["detail"] == f"journey {journey} is draft, not live"
    bad_sim = journeys.api(
        "POST", f"/api/journeys/{journey}/simulate", json={"version": 3, "events": []}
    )
    assert bad_sim.status_code == 400
    assert bad_sim.json()["detail"] == f"journey {journey} has no version 3"
    bad_body = journeys.api("POST", "/api/journeys/coupons/X/redeem", json={"order_id": ""})
    assert bad_body.status_code == 422
