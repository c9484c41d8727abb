"""Customer 360 through the public APIs: events in, profiles out (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Workspace
from tests.factories import identify, message


def send(ws: Workspace, *messages: dict[str, Any], write_key: str | None = None) -> None:
    response = ws.client.post(
        "/v1/batch",
        json={"batch": list(messages)},
        headers={"X-Write-Key": write_key or ws.write_key},
    )
    assert response.status_code == 200, response.text
    ws.drain()


def lookup(ws: Workspace, **query: str) -> dict[str, Any]:
    response = ws.client.get("/api/profiles/lookup", params=query, headers=ws.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def order(user_id: str, total: float, at: str, category: str = "serum", **extra: Any) -> dict:
    return message(
        userId=user_id,
        event="Order Completed",
        timestamp=at,
        properties={
            "order_id": f"o-{at}",
            "total": total,
            "currency": "THB",
            "products": [{"product_id": "p1", "category": category, "price": total, "quantity": 1}],
            **extra,
        },
    )


def test_management_api_needs_a_bearer_key(workspace: Workspace) -> None:
    assert workspace.client.get("/api/profiles").status_code == 401
    bad = workspace.client.get("/api/profiles", headers={"Authorization": "Bearer sk_wrong"})
    assert bad.status_code == 401
    assert bad.json() == {"detail": "invalid API key"}
    assert workspace.client.get("/api/openapi.json").status_code == 200
    assert workspace.client.get("/api/docs").status_code == 200


def test_phone_written_three_ways_on_three_channels_is_one_customer(workspace: Workspace) -> None:
    pos_key = workspace.new_source("pos")
    line_key = workspace.new_source("line")
    send(workspace, identify("M1", phone="081-234-5678", name="สมชาย ใจดี"))
    send(
        workspace,
        identify(None, phone="0812345678", pos_customer_id="POS-77")
        | {"anonymousId": "pos-session"},
        write_key=pos_key,
    )
    send(
        workspace,
        message(
            anonymousId="U" + "a" * 32,
            event="Message Received",
            context={
                "traits": {"phone": "+66 81 234 5678"},
                "externalIds": [{"id": "U" + "a" * 32, "type": "line_user_id"}],
            },
        ),
        write_key=line_key,
    )
    profile = lookup(workspace, phone="+66812345678")
    assert profile["display_name"] == "สมชาย ใจดี"
    identities = {(i["type"], i["value"]) for i in profile["identities"]}
    assert {
        ("user_id", "M1"),
        ("phone", "+66812345678"),
        ("pos_customer_id", "POS-77"),
        ("line_user_id", "U" + "a" * 32),
    } <= identities
    assert profile["computed"]["channels"] == ["line", "pos", "web"]
    assert profile["computed"]["event_count"] == 3
    assert lookup(workspace, line_user_id="U" + "a" * 32)["id"] == profile["id"]


def test_anonymous_activity_is_attributed_to_the_person_after_login(workspace: Workspace) -> None:
    send(
        workspace,
        message(anonymousId="anon-7", event="Product Viewed", properties={"category": "sunscreen"}),
    )
    send(workspace, message("page", anonymousId="anon-7", name="โปรโมชั่น"))
    send(workspace, identify("M7", email="Nok@Example.co.th") | {"anonymousId": "anon-7"})
    profile = lookup(workspace, email="nok@example.co.th")
    assert lookup(workspace, anonymous_id="anon-7")["id"] == profile["id"]
    assert profile["computed"]["event_count"] == 3
    assert profile["computed"]["favourite_category"] == "sunscreen"
    timeline = workspace.client.get(
        f"/api/profiles/{profile['id']}/events", headers=workspace.auth
    ).json()
    assert [item["type"] for item in timeline["items"]] == ["identify", "page", "track"]


def test_traits_keep_the_latest_by_event_time_not_by_arrival(workspace: Workspace) -> None:
    send(workspace, identify("M2", at="2026-05-01T10:00:00+07:00", city="เชียงใหม่"))
    send(
        workspace, identify("M2", at="2026-03-01T10:00:00+07:00", city="กรุงเทพมหานคร", skin="oily")
    )
    profile = lookup(workspace, user_id="M2")
    assert profile["traits"] == {"city": "เชียงใหม่", "skin": "oily"}


def test_computed_traits_follow_orders_and_refunds(workspace: Workspace) -> None:
    send(
        workspace,
        order("M3", 1200, "2026-01-10T10:00:00+07:00", "serum"),
        order("M3", 800, "2026-02-10T10:00:00+07:00", "serum"),
        order("M3", 500.5, "2026-03-10T10:00:00+07:00", "cleanser"),
        message(
            userId="M3",
            event="Order Refunded",
            timestamp="2026-03-11T10:00:00+07:00",
            properties={"order_id": "x", "total": 500.5, "currency": "THB"},
        ),
        order("M3", 30, "2026-03-12T10:00:00+07:00", "serum")
        | {"properties": {"order_id": "usd", "total": 30, "currency": "USD"}},
    )
    computed = lookup(workspace, user_id="M3")["computed"]
    assert computed["order_count"] == 4
    assert computed["total_spent"] == 2000.0
    assert computed["average_order_value"] == round(2000 / 3, 2)
    assert computed["currency"] == "THB"
    assert computed["spent_other_currencies"] == {"USD": 30.0}
    assert computed["last_order_at"] == "2026-03-12T03:00:00.000Z"
    assert computed["favourite_category"] == "serum"
    assert computed["first_seen"] == "2026-01-10T03:00:00.000Z"


def test_lookup_of_nobody_is_404_and_bad_identifiers_are_400(workspace: Workspace) -> None:
    missing = workspace.client.get(
        "/api/profiles/lookup", params={"phone": "0899999999"}, headers=workspace.auth
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no profile has phone '+66899999999'"
    bad = workspace.client.get(
        "/api/profiles/lookup", params={"phone": "08x"}, headers=workspace.auth
    )
    assert bad.status_code == 400
    assert "phone '08x' is not a valid identifier" in bad.json()["detail"]
    unknown = workspace.client.get(
        "/api/profiles/lookup", params={"shoe_size": "42"}, headers=workspace.auth
    )
    assert unknown.status_code == 400
    assert "unknown identifier type 'shoe_size'" in unknown.json()["detail"]


def test_search_finds_thai_and_latin_names_email_and_phone_in_any_form(
    workspace: Workspace,
) -> None:
    send(
        workspace,
        identify("M10", name="สมหญิง รักดี", email="somying@example.co.th", phone="0891112222"),
        identify("M11", first_name="Somchai", last_name="Jaidee", phone="0893334444"),
    )

    def found(q: str) -> list[str]:
        response = workspace.client.get("/api/profiles", params={"q": q}, headers=workspace.auth)
        assert response.status_code == 200
        return [p["display_name"] for p in response.json()["items"]]

    assert found("สมหญิง") == ["สมหญิง รักดี"]
    assert found("รักดี") == ["สมหญิง รักดี"]
    assert found("somchai") == ["Somchai Jaidee"]
    assert found("SOMYING@example.co.th") == ["สมหญิง รักดี"]
    assert found("+66 89 333 4444") == ["Somchai Jaidee"]
    assert found("089-111-2222") == ["สมหญิง รักดี"]
    assert found("nobody") == []
    assert found("M11") == ["Somchai Jaidee"]


def test_timeline_is_newest_first_paginated_and_filterable(workspace: Workspace) -> None:
    app_key = workspace.new_source("app")
    send(
        workspace,
        *[
            message(userId="M4", event="Product Viewed", timestamp=f"2026-04-0{d}T10:00:00+07:00")
            for d in range(1, 6)
        ],
    )
    send(
        workspace,
        message(userId="M4", event="Cart Viewed", timestamp="2026-04-06T10:00:00+07:00"),
        write_key=app_key,
    )
    profile_id = lookup(workspace, user_id="M4")["id"]
    url = f"/api/profiles/{profile_id}/events"
    first = workspace.client.get(url, params={"limit": 4}, headers=workspace.auth).json()
    assert [i["timestamp"][:10] for i in first["items"]] == [
        "2026-04-06",
        "2026-04-05",
        "2026-04-04",
        "2026-04-03",
    ]
    second = workspace.client.get(
        url, params={"limit": 4, "cursor": first["next_cursor"]}, headers=workspace.auth
    ).json()
    assert [i["timestamp"][:10] for i in second["items"]] == ["2026-04-02", "2026-04-01"]
    assert second["next_cursor"] is None
    by_channel = workspace.client.get(url, params={"channel": "app"}, headers=workspace.auth)
    assert [i["name"] for i in by_channel.json()["items"]] == ["Cart Viewed"]
    by_event = workspace.client.get(url, params={"event": "Cart Viewed"}, headers=workspace.auth)
    assert len(by_event.json()["items"]) == 1
    bad = workspace.client.get(url, params={"cursor": "garbage"}, headers=workspace.auth)
    assert bad.status_code == 400


def test_notes_and_custom_attributes_are_kept_on_the_profile(workspace: Workspace) -> None:
    send(workspace, identify("M5", name="ปิติ"))
    profile_id = lookup(workspace, user_id="M5")["id"]
    note = workspace.client.post(
        f"/api/profiles/{profile_id}/notes",
        json={"body": "ชอบที่นั่งริมหน้าต่าง", "author": "นุ่น (สาขาสยาม)"},
        headers=workspace.auth,
    )
    assert note.status_code == 201
    attrs = workspace.client.patch(
        f"/api/profiles/{profile_id}/attributes",
        json={"attributes": {"skin_type": "ผิวมัน", "seat": "window"}},
        headers=workspace.auth,
    )
    assert attrs.status_code == 200
    removed = workspace.client.patch(
        f"/api/profiles/{profile_id}/attributes",
        json={"attributes": {"seat": None}},
        headers=workspace.auth,
    )
    profile = removed.json()
    assert profile["custom_attributes"] == {"skin_type": "ผิวมัน"}
    assert [(n["body"], n["author"]) for n in profile["notes"]] == [
        ("ชอบที่นั่งริมหน้าต่าง", "นุ่น (สาขาสยาม)")
    ]
    empty = workspace.client.post(
        f"/api/profiles/{profile_id}/notes", json={"body": ""}, headers=workspace.auth
    )
    assert empty.status_code == 422
    missing = workspace.client.post(
        "/api/profiles/prf_nope/notes", json={"body": "x"}, headers=workspace.auth
    )
    assert missing.status_code == 404


def test_merge_keeps_history_and_the_merged_id_resolves_to_the_survivor(
    workspace: Workspace,
) -> None:
    send(
        workspace,
        identify("M6", email="mali@example.co.th"),
        order("M6", 100, "2026-01-01T00:00:00Z"),
    )
    send(
        workspace,
        message(anonymousId="dev-anon", event="Product Viewed"),
        identify(None, phone="0861234567") | {"anonymousId": "dev-anon"},
    )
    before_survivor = lookup(workspace, user_id="M6")["id"]
    merged_away = lookup(workspace, anonymous_id="dev-anon")["id"]
    assert before_survivor != merged_away
    send(workspace, identify("M6", phone="086-123-4567"))
    survivor = lookup(workspace, user_id="M6")
    assert survivor["id"] == min(before_survivor, merged_away)
    assert survivor["computed"]["event_count"] == 5
    assert survivor["computed"]["order_count"] == 1
    old = workspace.client.get(
        f"/api/profiles/{max(before_survivor, merged_away)}", headers=workspace.auth
    )
    assert old.json()["id"] == survivor["id"]
    history = workspace.client.get(
        f"/api/profiles/{survivor['id']}/merges", headers=workspace.auth
    ).json()
    assert len(history) == 1
    assert {(i["type"], i["value"]) for i in history[0]["trigger"]} == {
        ("user_id", "M6"),
        ("phone", "+66861234567"),
    }


def test_unmerge_splits_the_profile_and_re_attributes_events(workspace: Workspace) -> None:
    send(
        workspace,
        identify("M8", email="kan@example.co.th", name="กานต์"),
        order("M8", 900, "2026-02-01T00:00:00Z"),
    )
    send(
        workspace,
        message(anonymousId="kiosk", event="Product Viewed", properties={"category": "makeup"}),
    )
    # Someone logs in on a shared shop kiosk: its anonymous profile is (wrongly) merged in.
    send(workspace, identify(None, email="kan@example.co.th") | {"anonymousId": "kiosk"})
    survivor = lookup(workspace, user_id="M8")
    assert survivor["computed"]["event_count"] == 4
    (merge,) = survivor["merges"]
    response = workspace.client.post(
        f"/api/profiles/{survivor['id']}/unmerge", json={}, headers=workspace.auth
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["restored"]["id"] == merge["merged_id"]
    assert [(i["type"], i["value"]) for i in result["restored"]["identities"]] == [
        ("anonymous_id", "kiosk")
    ]
    assert result["moved_events"] == 1
    assert result["restored"]["computed"]["event_count"] == 1
    assert result["restored"]["computed"]["favourite_category"] == "makeup"
    assert result["survivor"]["computed"]["event_count"] == 3
    assert result["survivor"]["computed"]["order_count"] == 1
    assert lookup(workspace, anonymous_id="kiosk")["id"] == merge["merged_id"]
    # A guard keeps a later linking event from merging them again, and records why.
    send(workspace, identify(None, email="kan@example.co.th") | {"anonymousId": "kiosk"})
    assert lookup(workspace, anonymous_id="kiosk")["id"] == merge["merged_id"]
    after = lookup(workspace, user_id="M8")
    assert [(d["type"], d["reason"]) for d in after["unlinked_identifiers"]] == [
        ("anonymous_id", "unmerged")
    ]
    again = workspace.client.post(
        f"/api/profiles/{survivor['id']}/unmerge",
        json={"merge_id": merge["id"]},
        headers=workspace.auth,
    )
    assert again.status_code == 404
    nothing = workspace.client.post(
        f"/api/profiles/{merge['merged_id']}/unmerge", headers=workspace.auth
    )
    assert nothing.status_code == 409


def test_unmerge_restores_the_profiles_merged_into_the_restored_one(
    workspace: Workspace,
) -> None:
    send(workspace, identify("M20", name="ต้น"))
    send(workspace, message(anonymousId="x", event="Product Viewed"))
    send(workspace, message(anonymousId="y", event="Product Viewed"))
    p1, p2, p3 = (
        lookup(workspace, user_id="M20")["id"],
        lookup(workspace, anonymous_id="x")["id"],
        lookup(workspace, anonymous_id="y")["id"],
    )
    send(
        workspace,
        identify(None)
        | {"anonymousId": "x", "context": {"externalIds": [{"id": "y", "type": "anonymous_id"}]}},
    )
    assert lookup(workspace, anonymous_id="y")["id"] == p2  # p3 merged into p2
    send(workspace, identify("M20") | {"anonymousId": "x"})
    assert lookup(workspace, anonymous_id="y")["id"] == p1  # p2 merged into p1
    response = workspace.client.post(f"/api/profiles/{p1}/unmerge", json={}, headers=workspace.auth)
    assert response.status_code == 200
    assert lookup(workspace, anonymous_id="y")["id"] == p2
    old = workspace.client.get(f"/api/profiles/{p3}", headers=workspace.auth).json()
    assert old["id"] == p2


def test_bad_management_input_is_refused_with_a_precise_message_and_changes_nothing(
    workspace: Workspace,
) -> None:
    send(workspace, identify("M30", email="a@example.co.th"), identify("M31", phone="0812223333"))
    profile_id = lookup(workspace, user_id="M30")["id"]
    bad_name = workspace.client.patch(
        f"/api/profiles/{profile_id}/attributes",
        json={"attributes": {" ": "x", "ok": 1}},
        headers=workspace.auth,
    )
    assert bad_name.status_code == 400
    assert bad_name.json()["detail"] == "attribute name ' ' must be 1-100 characters"
    assert lookup(workspace, user_id="M30")["custom_attributes"] == {}
    split = workspace.client.get(
        "/api/profiles/lookup",
        params={"email": "a@example.co.th", "phone": "081-222-3333"},
        headers=workspace.auth,
    )
    assert split.status_code == 400
    assert split.json()["detail"].startswith("the identifiers belong to different profiles")
    empty = workspace.client.get("/api/profiles/lookup", headers=workspace.auth)
    assert empty.status_code == 400
    bad_kind = workspace.client.post(
        "/api/sources", json={"name": "Fax", "kind": "fax"}, headers=workspace.auth
    )
    assert bad_kind.status_code == 422
    missing = workspace.client.patch(
        "/api/sources/src_nope", json={"enabled": False}, headers=workspace.auth
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "source 'src_nope' does not exist"}
    listed = workspace.client.get("/api/sources", headers=workspace.auth).json()
    assert [s["name"] for s in listed] == ["Web shop"]
