"""Identity resolution rules, and order independence as a property."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from sampan.identity.identifiers import Identifier, IdentityRules
from sampan.identity.resolver import IdentityGraph, resolve

RULES = IdentityRules.build()
UNLIMITED = IdentityRules.build(limits=dict.fromkeys(IdentityRules.build().priority, 10000))


def run(events: Sequence[Sequence[Identifier]], rules: IdentityRules = RULES) -> IdentityGraph:
    graph = IdentityGraph()
    counter = itertools.count()
    for identifiers in events:
        ordered = sorted(identifiers, key=lambda i: (rules.rank(i.type), i.value))
        resolve(graph, ordered, rules, lambda: f"p{next(counter):06d}")
    return graph


def partition(graph: IdentityGraph) -> set[frozenset[Identifier]]:
    return {frozenset(graph.identifiers_of(p)) for p in graph.members}


def anon(v: str) -> Identifier:
    return Identifier("anonymous_id", v)


def user(v: str) -> Identifier:
    return Identifier("user_id", v)


def email(v: str) -> Identifier:
    return Identifier("email", v)


def test_anonymous_browsing_is_stitched_to_the_person_after_login() -> None:
    graph = run([[anon("a1")], [anon("a1")], [user("u1"), anon("a1")], [user("u1")]])
    assert partition(graph) == {frozenset({anon("a1"), user("u1")})}


def test_two_profiles_merge_when_an_event_links_them_and_the_older_survives() -> None:
    graph = IdentityGraph()
    ids = iter(["p1", "p2"])
    resolve(graph, [email("a@x.th")], RULES, lambda: next(ids))
    resolve(graph, [anon("a1")], RULES, lambda: next(ids))
    result = resolve(graph, [email("a@x.th"), anon("a1")], RULES, lambda: "never")
    assert result.profile_id == "p1"
    assert [(m.survivor, m.merged, m.moved) for m in result.merges] == [("p1", "p2", (anon("a1"),))]


def test_user_id_limit_blocks_a_merge_and_the_refusal_is_reported() -> None:
    graph = run([[user("u1"), email("shared@x.th")], [user("u2")]])
    result = resolve(graph, [user("u2"), email("shared@x.th")], RULES, lambda: "new")
    assert result.merges == []
    assert [(r.identifier, r.reason) for r in result.rejections] == [
        (email("shared@x.th"), "limit")
    ]
    assert graph.owner[email("shared@x.th")] == graph.owner[user("u1")]
    assert result.profile_id == graph.owner[user("u2")]


def test_a_new_member_on_a_shared_device_starts_their_own_profile() -> None:
    graph = run([[user("u1"), anon("tablet")]])
    first = graph.owner[user("u1")]
    result = resolve(graph, [user("u2"), anon("tablet")], RULES, lambda: "p-new")
    assert result.profile_id == "p-new"
    assert result.created is True
    assert graph.owner[user("u2")] == "p-new"
    assert graph.owner[anon("tablet")] == first
    assert [(r.identifier, r.profile_id, r.reason) for r in result.rejections] == [
        (anon("tablet"), "p-new", "limit")
    ]


def test_the_highest_priority_profile_keeps_the_event_when_a_lower_one_conflicts() -> None:
    graph = run([[user("u1"), anon("a1")], [user("u2"), email("x@x.th")]])
    result = resolve(graph, [user("u1"), email("x@x.th"), anon("a1")], RULES, lambda: "new")
    assert result.profile_id == graph.owner[user("u1")]
    assert [(r.identifier, r.reason) for r in result.rejections] == [(email("x@x.th"), "limit")]


def test_an_event_with_more_identifiers_than_allowed_links_only_the_allowed_number() -> None:
    phones = [Identifier("phone", f"+6681000000{i}") for i in range(7)]
    graph = IdentityGraph()
    result = resolve(graph, phones, RULES, lambda: "p1")
    assert graph.count("p1", "phone") == 5
    assert len(result.rejections) == 2


def test_unmerge_guard_keeps_two_profiles_apart() -> None:
    graph = run([[email("a@x.th")], [anon("z")]])
    p_email, p_anon = graph.owner[email("a@x.th")], graph.owner[anon("z")]
    graph.guards.add(frozenset({p_email, p_anon}))
    result = resolve(graph, [email("a@x.th"), anon("z")], RULES, lambda: "new")
    assert result.merges == []
    assert [r.reason for r in result.rejections] == ["unmerged"]


IDENTIFIERS = st.sampled_from(
    [user(f"u{i}") for i in range(4)]
    + [email(f"e{i}@x.th") for i in range(5)]
    + [Identifier("phone", f"+6681234567{i}") for i in range(5)]
    + [anon(f"a{i}") for i in range(8)]
)
EVENTS = st.lists(st.lists(IDENTIFIERS, min_size=1, max_size=4, unique=True), max_size=30)


@settings(max_examples=200, deadline=None)
@given(events=EVENTS, data=st.data())
def test_without_limits_any_arrival_order_gives_the_connected_components(
    events: list[list[Identifier]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    expected = nx.Graph()
    for identifiers in events:
        expected.add_nodes_from(identifiers)
        nx.add_path(expected, identifiers)
    components = {frozenset(c) for c in nx.connected_components(expected)}
    assert partition(run(events, UNLIMITED)) == components
    assert partition(run(shuffled, UNLIMITED)) == components


@settings(max_examples=200, deadline=None)
@given(events=EVENTS, data=st.data())
def test_with_limits_every_order_keeps_the_invariants(
    events: list[list[Identifier]], data: st.DataObject
) -> None:
    for order in (events, data.draw(st.permutations(events))):
        graph = run(order)
        owned = [i for p in graph.members for i in graph.identifiers_of(p)]
        assert len(owned) == len(set(owned)) == len(graph.owner)
        for profile in graph.members:
            for id_type in ("user_id", "email", "phone", "anonymous_id"):
                assert graph.count(profile, id_type) <= RULES.limit(id_type)
        # A partition is never coarser than the connected components of the links.
        expected = nx.Graph()
        for identifiers in order:
            expected.add_nodes_from(identifiers)
            nx.add_path(expected, identifiers)
        component_of = {i: frozenset(c) for c in nx.connected_components(expected) for i in c}
        for part in partition(graph):
            assert len({component_of[i] for i in part}) == 1


@settings(max_examples=100, deadline=None)
@given(
    events=st.lists(
        st.lists(
            st.sampled_from([anon(f"a{i}") for i in range(6)] + [email("one@x.th")]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        max_size=20,
    ),
    data=st.data(),
)
def test_anonymous_ids_of_one_person_end_in_one_profile_whatever_the_order(
    events: list[list[Identifier]], data: st.DataObject
) -> None:
    limits = IdentityRules.build(limits={"anonymous_id": 100})
    first = partition(run(events, limits))
    second = partition(run(data.draw(st.permutations(events)), limits))
    assert first == second


def test_a_profile_at_its_phone_limit_keeps_the_event_of_a_new_phone() -> None:
    phones = [Identifier("phone", f"+6681000000{i}") for i in range(5, 10)]
    graph = run([phones])
    owner = graph.owner[phones[0]]
    newcomer = Identifier("phone", "+66810000000")  # sorts before the known ones
    result = resolve(graph, [newcomer, phones[2]], RULES, lambda: "new")
    assert result.profile_id == owner
    assert [(r.identifier, r.reason) for r in result.rejections] == [(newcomer, "limit")]
