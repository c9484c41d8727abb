"""The condition language refuses bad trees with the path of the offending node."""

from __future__ import annotations

import pytest

from sampan.core.errors import InvalidInput
from sampan.segments.conditions import (
    EventTest,
    Group,
    is_time_based,
    parse_condition,
    segment_references,
)


def test_a_full_tree_parses_into_typed_nodes() -> None:
    tree = parse_condition(
        {
            "all": [
                {"trait": "city", "op": "eq", "value": "เชียงใหม่"},
                {
                    "event": "Order Completed",
                    "where": [{"property": "category", "op": "eq", "value": "serum"}],
                    "count": {"op": "gte", "value": 2},
                    "within_days": 90,
                },
                {"not": {"segment": "seg_vip"}},
            ]
        }
    )
    assert isinstance(tree, Group)
    assert tree.kind == "all"
    event = tree.children[1]
    assert isinstance(event, EventTest)
    assert event.aggregate.value == 2
    assert event.within_days == 90
    assert is_time_based(tree)
    assert segment_references(tree) == {"seg_vip"}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ([], "condition: must be an object"),
        ({}, "must have exactly one of"),
        ({"all": []}, "condition.all: must be a non-empty list"),
        (
            {"all": [{"trait": "x", "op": "like", "value": 1}]},
            "condition.all[0].op: must be one of",
        ),
        ({"any": [{"trait": "x", "op": "eq"}]}, "condition.any[0].value: must be a text"),
        ({"computed": "wealth", "op": "gt", "value": 1}, "unknown computed trait 'wealth'"),
        ({"computed": "total_spent", "op": "within_last_days", "days": 3}, "total_spent takes eq"),
        (
            {"event": "Order Completed", "count": {"op": "gte"}},
            "condition.count.value: must be a number",
        ),
        ({"event": "X", "did": False, "count": {"op": "gte", "value": 1}}, "cannot be combined"),
        ({"event": "X", "within_days": 3, "since": "2026-01-01T00:00:00Z"}, "not both"),
        ({"event": "X", "since": "2026-01-01"}, "must include a time zone"),
        ({"event": "*", "where": [{"property": "a", "op": "eq", "value": 1}]}, "any event"),
        ({"trait": "x", "op": "eq", "value": 1, "colour": "red"}, "unexpected 'colour'"),
        ({"consent": {"channel": "sms"}}, "condition.consent.purpose: must be a name"),
        ({"not": {"not": {"not": {"segment": ""}}}}, "condition.not.not.not.segment"),
        ({"trait": "birthday", "op": "anniversary_within_days", "days": -1}, "0 or more"),
    ],
)
def test_bad_conditions_name_the_node(tree: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_condition(tree)


def test_deep_or_huge_trees_are_refused() -> None:
    deep: dict = {"segment": "s"}
    for _ in range(20):
        deep = {"not": deep}
    with pytest.raises(InvalidInput, match="nest at most"):
        parse_condition(deep)
    wide = {"any": [{"identity": "email"}] * 300}
    with pytest.raises(InvalidInput, match="at most 200 nodes"):
        parse_condition(wide)


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"event": "*", "count": {"op": "gte", "value": 3}}, "no property filters, counts"),
        ({"computed": "lifecycle_stage", "op": "gt", "value": "a"}, "lifecycle_stage takes eq"),
        ({"computed": "last_seen_at", "op": "gt", "value": 1}, "last_seen_at takes before"),
        (
            {"computed": "order_count", "op": "before", "value": "2026-01-01T00:00:00Z"},
            "order_count takes eq",
        ),
    ],
)
def test_computed_traits_accept_only_their_operators(tree: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_condition(tree)


def test_lifecycle_thresholds_are_checked() -> None:
    from pydantic import ValidationError

    from sampan.settings import LifecycleThresholds

    with pytest.raises(ValidationError, match="churned_days must be more"):
        LifecycleThresholds(active_days=200, churned_days=100)
    with pytest.raises(ValidationError, match="vip_spent"):
        LifecycleThresholds.model_validate({"vip_spent": 1})
