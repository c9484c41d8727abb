"""Computed traits: exact, order-independent, and merge-consistent."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sampan.profiles.computed import ProfileState, apply_event, computed_traits, merge_states


def fold(events: list[tuple[int, dict[str, Any]]]) -> ProfileState:
    state = ProfileState()
    for seq, message in events:
        apply_event(
            state,
            message=message,
            seq=seq,
            channel=message.get("channel", "web"),
            timestamp_ms=message["ts"],
            default_currency="THB",
        )
    return state


def order(
    order_id: str | None, total: float, ts: int, currency: str = "THB", category: str = "serum"
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "total": total,
        "currency": currency,
        "products": [{"category": category, "quantity": 1}],
    }
    if order_id is not None:
        props["order_id"] = order_id
    return {"type": "track", "event": "Order Completed", "properties": props, "ts": ts}


def test_an_order_reported_twice_counts_once_and_a_bare_refund_refunds_all_of_it() -> None:
    state = fold(
        [
            (1, order("A", 1000, 10)),
            (2, order("A", 1000, 11)),
            (3, order("B", 250.5, 12)),
            (
                4,
                {
                    "type": "track",
                    "event": "Order Refunded",
                    "properties": {"order_id": "B"},
                    "ts": 13,
                },
            ),
            (
                5,
                {
                    "type": "track",
                    "event": "Order Refunded",
                    "properties": {"order_id": "A", "total": 100},
                    "ts": 14,
                },
            ),
        ]
    )
    computed = computed_traits(state, "THB")
    assert computed["order_count"] == 2
    assert computed["total_spent"] == 900.0
    assert computed["average_order_value"] == 450.0


def test_a_cancelled_order_is_taken_off_the_spend_once_even_if_also_refunded() -> None:
    cancel = {"type": "track", "event": "Order Cancelled", "properties": {"order_id": "A"}}
    refund = {"type": "track", "event": "Order Refunded", "properties": {"order_id": "A"}}
    state = fold(
        [
            (1, order("A", 1000, 10)),
            (2, order("B", 300, 10)),
            (3, cancel | {"ts": 11}),
            (4, refund | {"ts": 12}),
        ]
    )
    assert computed_traits(state, "THB")["total_spent"] == 300.0


EVENTS = st.lists(
    st.one_of(
        st.builds(
            order,
            st.sampled_from(["A", "B", "C", None]),
            st.integers(0, 5000),
            st.integers(0, 100),
            st.sampled_from(["THB", "USD"]),
            st.sampled_from(["serum", "cleanser", "sunscreen"]),
        ),
        st.builds(
            lambda name, city, ts: {
                "type": "identify",
                "traits": {"name": name, "city": city},
                "ts": ts,
            },
            st.sampled_from(["สมชาย", "Nok", "ปิติ"]),
            st.sampled_from(["กรุงเทพ", "Phuket"]),
            st.integers(0, 100),
        ),
        st.builds(
            lambda oid, ts: {
                "type": "track",
                "event": "Order Refunded",
                "properties": {"order_id": oid},
                "ts": ts,
            },
            st.sampled_from(["A", "B"]),
            st.integers(0, 100),
        ),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(events=EVENTS, data=st.data())
def test_any_order_and_any_split_into_merged_profiles_give_the_same_traits(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    numbered = list(enumerate(events, start=1))
    expected = fold(numbered)
    shuffled = data.draw(st.permutations(numbered))
    cut = data.draw(st.integers(0, len(numbered)))
    merged = merge_states(fold(shuffled[:cut]), fold(shuffled[cut:]))
    for candidate in (fold(shuffled), merged):
        assert computed_traits(candidate, "THB") == computed_traits(expected, "THB")
        assert candidate.traits == expected.traits
