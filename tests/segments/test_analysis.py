"""RFM scores and groups, lifecycle stages, inactivity and the ready-made segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sampan.segments import service as segments
from sampan.segments.analysis import RFM_GRID, RFM_GROUPS, quintile_scores, rfm_group
from tests.conftest import Workspace
from tests.consent.helpers import profile_id, send
from tests.factories import identify, message

NOW = datetime.now(UTC)


def test_every_score_combination_has_exactly_one_of_the_eleven_groups() -> None:
    seen = {rfm_group(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert seen == set(RFM_GROUPS)
    assert rfm_group(5, 5, 5) == "Champions"
    assert rfm_group(1, 1, 1) == "Lost"
    assert rfm_group(1, 5, 5) == "Can't Lose Them"
    assert rfm_group(5, 1, 1) == "New"
    assert set(RFM_GRID) == {1, 2, 3, 4, 5}


def test_quintiles_give_equal_values_equal_scores() -> None:
    assert quintile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert quintile_scores([7, 7, 7, 7]) == [1, 1, 1, 1]
    scores = quintile_scores(list(range(100)))
    assert [scores.count(s) for s in range(1, 6)] == [20, 20, 20, 20, 20]


def _order(user: str, days_ago: float, total: float, order_id: str) -> dict:
    return message(
        userId=user,
        event="Order Completed",
        timestamp=(NOW - timedelta(days=days_ago)).isoformat(),
        properties={"order_id": order_id, "total": total},
    )


def test_rfm_lifecycle_and_ready_made_segments_over_real_customers(workspace: Workspace) -> None:
    send(
        workspace,
        identify("lead", email="lead@example.com"),
        identify("fresh", email="fresh@example.com"),
        _order("fresh", 2, 500, "f1"),
        identify("vip", email="vip@example.com", birthday=NOW.strftime("1988-%m-15")),
        *[_order("vip", day, 9000, f"v{day}") for day in (1, 20, 40, 60, 80, 85)],
        identify("fading", email="fading@example.com"),
        _order("fading", 120, 800, "d1"),
        _order("fading", 130, 700, "d2"),
        identify("gone", email="gone@example.com"),
        _order("gone", 400, 300, "g1"),
    )
    ids = {
        n: profile_id(workspace, email=f"{n}@example.com")
        for n in ("lead", "fresh", "vip", "fading", "gone")
    }
    context = workspace.runtime.segment_context()
    with workspace.runtime.db.transaction() as session:
        created = segments.install_ready_made(session, context=context)
        again = segments.install_ready_made(session, context=context)
        segments.evaluate_scheduled(session, context=context)
    assert len(created) == 11 + 6 + 3 + 6
    assert again == []
    listed = workspace.client.get("/api/segments", headers=workspace.auth).json()
    by_name = {s["name"]: s["id"] for s in listed}
    # Ready-made segments carry their stable key, so the console can tell them apart.
    keys = {s["key"] for s in listed}
    assert None not in keys
    assert len(keys) == len(listed)

    def members(name: str) -> set[str]:
        page = workspace.client.get(
            f"/api/segments/{by_name[name]}/members", headers=workspace.auth
        ).json()
        who = {pid: n for n, pid in ids.items()}
        return {who[item["profile_id"]] for item in page["items"]}

    assert members("Lifecycle: ผู้สนใจรายใหม่ (ยังไม่เคยซื้อ)") == {"lead"}
    assert members("Lifecycle: ลูกค้าซื้อครั้งแรก") == {"fresh"}
    assert members("Lifecycle: ลูกค้าประจำ / VIP") == {"vip"}
    assert members("Lifecycle: ลูกค้าเสี่ยงหาย") == {"fading"}
    assert members("Lifecycle: ลูกค้าที่หายไปแล้ว") == {"gone"}
    assert members("VIP ตามยอดซื้อ") == {"vip"}
    assert members("เกิดเดือนนี้") == {"vip"}
    assert members("ไม่ได้ซื้อ 90 วัน") == {"fading", "gone"}
    assert members("RFM: Champions") == {"vip"}
    assert members("RFM: Lost") == {"gone"}
    grouped = set().union(*(members(f"RFM: {g}") for g in RFM_GROUPS))
    assert grouped == {"fresh", "vip", "fading", "gone"}


def test_rfm_exists_and_not_exists_split_scored_from_unscored(workspace: Workspace) -> None:
    send(workspace, identify("s1", email="s1@example.com"), _order("s1", 3, 100, "s1-1"))
    send(workspace, identify("s2", email="s2@example.com"))
    context = workspace.runtime.segment_context()
    with workspace.runtime.db.transaction() as session:
        segments.evaluate_scheduled(session, context=context)
        scored = segments.preview(
            session, condition={"computed": "rfm_recency", "op": "exists"}, context=context
        )
        unscored = segments.preview(
            session, condition={"computed": "rfm_recency", "op": "not_exists"}, context=context
        )
    assert [m.profile_id for m in scored.sample] == [profile_id(workspace, email="s1@example.com")]
    assert [m.profile_id for m in unscored.sample] == [
        profile_id(workspace, email="s2@example.com")
    ]


def test_insights_count_rfm_groups_lifecycle_and_inactivity_without_blocked_people(
    workspace: Workspace,
) -> None:
    send(
        workspace,
        identify("lead", email="lead@example.com"),
        identify("fresh", email="fresh@example.com"),
        _order("fresh", 2, 500, "f1"),
        identify("vip", email="vip@example.com"),
        *[_order("vip", day, 9000, f"v{day}") for day in (1, 20, 40, 60, 80, 85)],
        identify("gone", email="gone@example.com"),
        _order("gone", 400, 300, "g1"),
        identify("blocked", email="blocked@example.com"),
        _order("blocked", 3, 100, "b1"),
    )
    blocked = profile_id(workspace, email="blocked@example.com")
    answer = workspace.client.put(
        f"/api/privacy/profiles/{blocked}/blocks/restricted",
        json={"active": True},
        headers=workspace.auth,
    )
    assert answer.status_code == 200, answer.text
    context = workspace.runtime.segment_context()
    with workspace.runtime.db.transaction() as session:
        segments.evaluate_scheduled(session, context=context)
    body = workspace.client.get("/api/segments/insights", headers=workspace.auth).json()
    assert (body["people"], body["buyers"]) == (4, 3)
    lifecycle = {t["label"]: t["people"] for t in body["lifecycle"]}
    assert lifecycle == {
        "new_lead": 1,
        "first_time_buyer": 1,
        "active": 0,
        "loyal_vip": 1,
        "at_risk": 0,
        "churned": 1,
    }
    assert sum(t["people"] for t in body["inactivity"]) == 4
    groups = {g["group"]: g for g in body["rfm_groups"]}
    assert [g["group"] for g in body["rfm_groups"]] == list(RFM_GROUPS)
    assert sum(g["people"] for g in groups.values()) == 3
    assert groups["Champions"]["people"] == 1
    assert groups["Champions"]["avg_orders"] == 6
    assert groups["Champions"]["avg_spent"] == 54_000
    assert groups["Champions"]["avg_days_since_order"] == 1.0
    assert len(body["rfm_grid"]) == 25
    assert sum(c["people"] for c in body["rfm_grid"]) == 3
    for cell in body["rfm_grid"]:
        assert cell["group"] == rfm_group(cell["recency"], cell["fm"], cell["fm"])


def test_vocabulary_lists_events_seen_with_their_property_names(workspace: Workspace) -> None:
    send(
        workspace,
        identify("v1", email="v1@example.com"),
        _order("v1", 1, 100, "o1"),
        message(userId="v1", event="Product Viewed", properties={"sku": "A", "category": "ผิว"}),
    )
    body = workspace.client.get("/api/segments/vocabulary", headers=workspace.auth).json()
    events = {e["name"]: e for e in body["events"]}
    assert events["Product Viewed"] == {
        "name": "Product Viewed",
        "people": 1,
        "properties": ["category", "sku"],
    }
    assert events["Order Completed"]["properties"] == ["order_id", "total"]
    assert body["computed"]["total_spent"] == "number"
    assert "Champions" in body["rfm_groups"]
    assert "email" in body["identifier_types"]
    assert "marketing" in body["purposes"]
    denied = workspace.client.get("/api/segments/vocabulary")
    assert denied.status_code == 401
