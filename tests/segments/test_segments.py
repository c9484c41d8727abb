"""Segments end to end: conditions over real data, real-time membership, the API (both backends)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sampan.db.outbox import read
from sampan.segments import models as segments_models
from sampan.segments import service as segments
from sampan.segments.compiler import members_query
from sampan.segments.conditions import parse_condition
from sampan.segments.models import Person
from tests.conftest import Workspace
from tests.consent.helpers import grant, profile_id, role_auth, send
from tests.factories import identify, message

NOW = datetime.now(UTC)


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def _order(user: str, days_ago: float, total: float, category: str, order_id: str) -> dict:
    return message(
        userId=user,
        event="Order Completed",
        timestamp=_ago(days_ago),
        properties={
            "order_id": order_id,
            "total": total,
            "category": category,
            "products": [{"category": category, "price": total, "quantity": 1}],
        },
    )


def _people(ws: Workspace) -> dict[str, str]:
    """Four customers with different lives; returns name -> profile id."""
    birthday_soon = (NOW + timedelta(days=3)).strftime("1990-%m-%d")
    send(
        ws,
        identify(
            "A",
            name="สมชาย ใจดี",
            email="a@example.com",
            city="เชียงใหม่",
            birthday=birthday_soon,
            at=_ago(100),
        ),
        _order("A", 10, 1500, "serum", "A-1"),
        _order("A", 40, 2500, "serum", "A-2"),
        identify(
            "B",
            name="Nok",
            email="b@example.com",
            city="กรุงเทพมหานคร",
            birthday="1985-01-01",
            lineUserId="U" + "b" * 32,
            at=_ago(200),
        ),
        _order("B", 120, 900, "serum", "B-1"),
        _order("B", 5, 300, "toner", "B-2"),
        identify("C", name="มานี", phone="0891234567", city="เชียงราย", at=_ago(70)),
        message(
            userId="C", event="Product Viewed", timestamp=_ago(65), properties={"category": "serum"}
        ),
        identify("D", email="d@example.com", city="ภูเก็ต", vip=True, age=41, at=_ago(1)),
    )
    return {
        "A": profile_id(ws, email="a@example.com"),
        "B": profile_id(ws, email="b@example.com"),
        "C": profile_id(ws, phone="0891234567"),
        "D": profile_id(ws, email="d@example.com"),
    }


def _create(ws: Workspace, condition: dict, name: str = "segment") -> dict[str, Any]:
    response = ws.client.post(
        "/api/segments", json={"name": name, "condition": condition}, headers=ws.auth
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _members(ws: Workspace, segment_id: str) -> set[str]:
    response = ws.client.get(
        f"/api/segments/{segment_id}/members", params={"limit": 500}, headers=ws.auth
    )
    assert response.status_code == 200, response.text
    return {item["profile_id"] for item in response.json()["items"]}


def test_each_kind_of_condition_selects_exactly_the_right_people(workspace: Workspace) -> None:
    p = _people(workspace)
    grant(workspace, p["B"], {"purpose": "marketing", "channel": "line", "status": "granted"})
    cases: list[tuple[dict, set[str]]] = [
        ({"trait": "city", "op": "eq", "value": "เชียงใหม่"}, {"A"}),
        ({"trait": "city", "op": "contains", "value": "เชียง"}, {"A", "C"}),
        ({"trait": "city", "op": "in", "value": ["ภูเก็ต", "เชียงราย"]}, {"C", "D"}),
        ({"trait": "city", "op": "neq", "value": "ภูเก็ต"}, {"A", "B", "C"}),
        ({"trait": "vip", "op": "eq", "value": True}, {"D"}),
        ({"trait": "age", "op": "between", "value": [40, 50]}, {"D"}),
        ({"trait": "age", "op": "gt", "value": 18}, {"D"}),
        ({"trait": "vip", "op": "not_exists"}, {"A", "B", "C"}),
        ({"trait": "birthday", "op": "anniversary_within_days", "days": 7}, {"A"}),
        ({"trait": "birthday", "op": "before", "value": "1989-12-31T00:00:00+07:00"}, {"B"}),
        ({"computed": "total_spent", "op": "gte", "value": 4000}, {"A"}),
        ({"computed": "order_count", "op": "eq", "value": 2}, {"A", "B"}),
        ({"computed": "last_seen_at", "op": "not_within_last_days", "days": 60}, {"C"}),
        (
            {
                "event": "Order Completed",
                "where": [{"property": "category", "op": "eq", "value": "serum"}],
                "count": {"op": "gte", "value": 2},
                "within_days": 90,
            },
            {"A"},
        ),
        (
            {
                "event": "Order Completed",
                "sum": {"property": "total", "op": "gte", "value": 1000},
                "within_days": 30,
            },
            {"A"},
        ),
        (
            {"event": "Order Completed", "count": {"op": "lte", "value": 1}, "within_days": 30},
            {"A", "B", "C", "D"},
        ),
        (
            {"event": "Order Completed", "avg": {"property": "total", "op": "lt", "value": 1000}},
            {"B"},
        ),
        ({"event": "Order Completed", "did": False, "within_days": 90}, {"C", "D"}),
        ({"event": "*", "did": False, "within_days": 60}, {"C"}),
        ({"identity": "line_user_id"}, {"B"}),
        ({"identity": "phone"}, {"C"}),
        ({"consent": {"purpose": "marketing", "channel": "line"}}, {"B"}),
        (
            {"consent": {"purpose": "marketing", "channel": "line", "granted": False}},
            {"A", "C", "D"},
        ),
        ({"not": {"any": [{"identity": "email"}, {"identity": "phone"}]}}, set()),
    ]
    names = {pid: name for name, pid in p.items()}
    per_person = dataclasses.replace(workspace.runtime.segment_context(), per_person=True)
    for condition, expected in cases:
        created = _create(workspace, condition)
        assert {names[m] for m in _members(workspace, created["id"])} == expected, condition
        assert created["size"] == len(expected)
        # The per-person form the pipeline uses selects the same people.
        query = members_query(parse_condition(condition), per_person).where(
            Person.profile_id.in_(list(p.values()))
        )
        with workspace.runtime.db.reading() as session:
            assert {names[m] for m in session.scalars(query)} == expected, condition


def test_membership_follows_events_at_once_and_records_domain_events(
    workspace: Workspace,
) -> None:
    p = _people(workspace)
    serum_fans = _create(
        workspace,
        {
            "event": "Order Completed",
            "where": [{"property": "category", "op": "eq", "value": "serum"}],
            "count": {"op": "gte", "value": 2},
        },
        "serum fans",
    )
    assert _members(workspace, serum_fans["id"]) == {p["A"]}
    send(workspace, _order("B", 1, 1200, "serum", "B-3"))
    assert _members(workspace, serum_fans["id"]) == {p["A"], p["B"]}
    with workspace.runtime.db.reading() as session:
        entered = read(session, topics=[segments.ENTERED], key=p["B"])
        first = read(session, topics=[segments.ENTERED], key=p["A"])
    assert [(e.payload["segment_id"], e.payload["reason"]) for e in entered] == [
        (serum_fans["id"], "condition")
    ]
    assert [e.payload["reason"] for e in first] == ["definition"]
    send(workspace, message(userId="B", event="Order Refunded", properties={"order_id": "B-3"}))
    big = _create(workspace, {"computed": "total_spent", "op": "gte", "value": 2000}, "big")
    assert _members(workspace, big["id"]) == {p["A"]}
    send(workspace, _order("C", 0, 5000, "serum", "C-1"))
    assert _members(workspace, big["id"]) == {p["A"], p["C"]}


def test_restricted_people_leave_every_segment(workspace: Workspace) -> None:
    p = _people(workspace)
    everyone = _create(workspace, {"event": "*", "within_days": 3650}, "everyone")
    assert len(_members(workspace, everyone["id"])) == 4
    response = workspace.client.put(
        f"/api/privacy/profiles/{p['A']}/blocks/restricted",
        json={"active": True},
        headers=workspace.auth,
    )
    assert response.status_code == 200
    workspace.drain()
    assert p["A"] not in _members(workspace, everyone["id"])
    with workspace.runtime.db.reading() as session:
        exited = read(session, topics=[segments.EXITED], key=p["A"])
    assert [e.payload["segment_id"] for e in exited] == [everyone["id"]]
    erased = workspace.client.post(f"/api/privacy/profiles/{p['B']}/erase", headers=workspace.auth)
    assert erased.status_code == 200
    assert _members(workspace, everyone["id"]) == {p["C"], p["D"]}
    with workspace.runtime.db.reading() as session:
        gone = read(session, topics=[segments.EXITED], key=p["B"])
    assert [(e.payload["segment_id"], e.payload["reason"]) for e in gone] == [
        (everyone["id"], "erased")
    ]


def test_a_trait_set_by_staff_moves_people_at_once(workspace: Workspace) -> None:
    p = _people(workspace)
    oily = _create(workspace, {"trait": "skin_type", "op": "eq", "value": "ผิวมัน"}, "oily")
    assert _members(workspace, oily["id"]) == set()
    response = workspace.client.patch(
        f"/api/profiles/{p['C']}/attributes",
        json={"attributes": {"skin_type": "ผิวมัน"}},
        headers=workspace.auth,
    )
    assert response.status_code == 200
    workspace.drain()
    assert _members(workspace, oily["id"]) == {p["C"]}


def test_time_alone_moves_people_on_the_schedule(workspace: Workspace) -> None:
    p = _people(workspace)
    lapsed = _create(workspace, {"event": "*", "did": False, "within_days": 30}, "lapsed")
    assert _members(workspace, lapsed["id"]) == {p["C"]}
    context = workspace.runtime.segment_context()
    later = type(context)(**{**context.__dict__, "now": NOW + timedelta(days=45)})
    with workspace.runtime.db.transaction() as session:
        report = segments.evaluate_scheduled(session, context=later)
    assert report.segments == 1
    assert report.entered == 3
    assert _members(workspace, lapsed["id"]) == set(p.values())
    sizes = workspace.client.get(f"/api/segments/{lapsed['id']}/sizes", headers=workspace.auth)
    assert [point["size"] for point in sizes.json()] == [1, 4]


def test_segments_of_segments_versions_preview_csv_and_delete(workspace: Workspace) -> None:
    p = _people(workspace)
    buyers = _create(workspace, {"computed": "order_count", "op": "gte", "value": 1}, "buyers")
    north = _create(
        workspace,
        {"all": [{"segment": buyers["id"]}, {"trait": "city", "op": "contains", "value": "เชียง"}]},
        "northern buyers",
    )
    assert _members(workspace, north["id"]) == {p["A"]}
    cycle = workspace.client.put(
        f"/api/segments/{buyers['id']}",
        json={"name": "buyers", "condition": {"segment": north["id"]}},
        headers=workspace.auth,
    )
    assert cycle.status_code == 400
    assert "cycle" in cycle.json()["detail"]
    unknown = workspace.client.post(
        "/api/segments",
        json={"name": "x", "condition": {"segment": "seg_nope"}},
        headers=workspace.auth,
    )
    assert unknown.status_code == 400
    in_use = workspace.client.delete(f"/api/segments/{buyers['id']}", headers=workspace.auth)
    assert in_use.status_code == 409

    updated = workspace.client.put(
        f"/api/segments/{north['id']}",
        json={
            "name": "northern people",
            "condition": {"trait": "city", "op": "contains", "value": "เชียง"},
        },
        headers=workspace.auth,
    ).json()
    assert updated["version"] == 2
    assert _members(workspace, north["id"]) == {p["A"], p["C"]}

    preview = workspace.client.post(
        "/api/segments/preview",
        json={"condition": {"identity": "email"}, "sample": 2},
        headers=workspace.auth,
    ).json()
    assert preview["count"] == 3
    assert len(preview["sample"]) == 2
    bad = workspace.client.post(
        "/api/segments/preview", json={"condition": {"trait": "x"}}, headers=workspace.auth
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("condition.op:")

    page = workspace.client.get(
        f"/api/segments/{north['id']}/members", params={"limit": 1}, headers=workspace.auth
    ).json()
    assert page["total"] == 2
    rest = workspace.client.get(
        f"/api/segments/{north['id']}/members",
        params={"limit": 1, "cursor": page["next_cursor"]},
        headers=workspace.auth,
    ).json()
    assert {page["items"][0]["profile_id"], rest["items"][0]["profile_id"]} == {p["A"], p["C"]}
    csv = workspace.client.get(f"/api/segments/{north['id']}/members.csv", headers=workspace.auth)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "profile_id,display_name,member_since"
    assert len(lines) == 3
    assert any("สมชาย ใจดี" in line for line in lines)

    assert (
        workspace.client.delete(f"/api/segments/{north['id']}", headers=workspace.auth).status_code
        == 204
    )
    assert (
        workspace.client.get(f"/api/segments/{north['id']}", headers=workspace.auth).status_code
        == 404
    )


def test_segment_routes_check_permissions_and_mask_names(workspace: Workspace) -> None:
    _people(workspace)
    analyst = role_auth(workspace, "analyst")
    refused = workspace.client.post(
        "/api/segments", json={"name": "x", "condition": {"identity": "email"}}, headers=analyst
    )
    assert refused.status_code == 403
    marketer = role_auth(workspace, "marketer")
    made = workspace.client.post(
        "/api/segments", json={"name": "x", "condition": {"identity": "phone"}}, headers=marketer
    )
    assert made.status_code == 201
    members = workspace.client.get(
        f"/api/segments/{made.json()['id']}/members", headers=analyst
    ).json()
    assert members["items"][0]["display_name"] not in (None, "มานี")
    schema = workspace.client.get("/api/segments/schema", headers=analyst).json()
    assert "event" in schema["$defs"]
    csv = workspace.client.get(f"/api/segments/{made.json()['id']}/members.csv", headers=analyst)
    assert csv.status_code == 200
    assert "มานี" not in csv.text
    assert len(csv.text.splitlines()) == 2
    audit = workspace.client.get(
        "/api/audit", params={"action": "segment.exported"}, headers=workspace.auth
    ).json()
    assert audit["items"][0]["subject_id"] == made.json()["id"]


def test_a_merge_moves_events_and_membership_to_the_survivor(workspace: Workspace) -> None:
    send(
        workspace,
        message(anonymousId="web-9", event="Product Added", timestamp=_ago(0.1)),
        message(anonymousId="web-9", event="Product Added", timestamp=_ago(0.05)),
    )
    carts = _create(
        workspace, {"event": "Product Added", "count": {"op": "gte", "value": 3}}, "carts"
    )
    adders = _create(workspace, {"event": "Product Added"}, "adders")
    anonymous = next(iter(_members(workspace, adders["id"])))
    send(workspace, identify("Z9", email="z9@example.com"))
    send(workspace, message(userId="Z9", event="Product Added", timestamp=_ago(0.01)))
    known = profile_id(workspace, email="z9@example.com")
    assert _members(workspace, carts["id"]) == set()
    assert _members(workspace, adders["id"]) == {anonymous, known}
    send(workspace, identify("Z9") | {"anonymousId": "web-9"})
    survivor = profile_id(workspace, email="z9@example.com")
    assert _members(workspace, carts["id"]) == {survivor}
    assert _members(workspace, adders["id"]) == {survivor}
    (merged_away,) = {anonymous, known} - {survivor}
    # A person's own segments (the Customer 360 lists them) follow the merge too.
    mine = workspace.client.get(
        "/api/segments", params={"profile_id": survivor}, headers=workspace.auth
    ).json()
    assert [(s["id"], s["name"]) for s in mine] == [
        (adders["id"], "adders"),
        (carts["id"], "carts"),
    ]
    gone = workspace.client.get(
        "/api/segments", params={"profile_id": merged_away}, headers=workspace.auth
    ).json()
    assert gone == []
    too_long = workspace.client.get(
        "/api/segments", params={"profile_id": "p" * 41}, headers=workspace.auth
    )
    assert too_long.status_code == 422, too_long.text
    with workspace.runtime.db.reading() as session:
        exits = read(session, topics=[segments.EXITED], key=merged_away)
    assert [(e.payload["segment_id"], e.payload["merged_into"]) for e in exits] == [
        (adders["id"], survivor)
    ]


def test_a_rebuilt_read_model_gives_the_same_members(workspace: Workspace) -> None:
    p = _people(workspace)
    serum = _create(
        workspace,
        {
            "all": [
                {"event": "Order Completed", "count": {"op": "gte", "value": 2}},
                {"computed": "bought_category", "op": "eq", "value": "serum"},
            ]
        },
        "serum buyers",
    )
    before = _members(workspace, serum["id"])
    assert before == {p["A"], p["B"]}
    with workspace.runtime.db.transaction() as session:
        session.execute(segments_models.PersonEvent.__table__.delete())
        session.execute(segments_models.Person.__table__.delete())
        assert segments.needs_rebuild(session)
        segments.rebuild(session, context=workspace.runtime.segment_context(), currency="THB")
        assert not segments.needs_rebuild(session)
    assert _members(workspace, serum["id"]) == before


def test_names_that_exist_nowhere_are_refused(workspace: Workspace) -> None:
    cases = [
        ({"consent": {"purpose": "newsletter"}}, "unknown consent purpose 'newsletter'"),
        ({"consent": {"purpose": "marketing"}}, "takes channel email, sms, line"),
        ({"consent": {"purpose": "analytics", "channel": "sms"}}, "takes channel (none)"),
        ({"identity": "fax"}, "unknown identifier type 'fax'"),
        ({"computed": "lifecycle_stage", "op": "eq", "value": "vip"}, "has no 'vip'"),
        (
            {"computed": "rfm_group", "op": "in", "value": ["Champions", "Heroes"]},
            "has no 'Heroes'",
        ),
    ]
    for condition, reason in cases:
        response = workspace.client.post(
            "/api/segments", json={"name": "x", "condition": condition}, headers=workspace.auth
        )
        assert response.status_code == 400, condition
        assert reason in response.json()["detail"]
    assert workspace.client.get("/api/segments", headers=workspace.auth).json() == []
