"""``one_of``: a whole id list bound as one parameter, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sampan.db.lists import one_of
from sampan.db.outbox import OutboxMessage, publish
from sampan.runtime import Runtime

AT = datetime(2026, 11, 23, tzinfo=UTC)
# Quotes, a backslash, brackets and Thai: nothing in a value may break the list apart.
KEYS = ["a", 'say "hi"', "back\\slash", "[1,2]", "สมชาย", "x" * 80]


def _keys_in(runtime: Runtime, wanted: list[str]) -> list[str]:
    with runtime.db.reading() as session:
        dialect = session.get_bind().dialect.name
        query = select(OutboxMessage.key).where(one_of(OutboxMessage.key, "keys", dialect=dialect))
        return sorted(session.execute(query, {"keys": wanted}).scalars())


@pytest.fixture
def published(runtime: Runtime) -> Runtime:
    with runtime.db.transaction() as session:
        for key in KEYS:
            publish(session, topic="test.listed", key=key, payload={}, at=AT)
    return runtime


def test_each_value_matches_itself_whatever_characters_it_holds(published: Runtime) -> None:
    for key in KEYS:
        assert _keys_in(published, [key]) == [key]
    assert _keys_in(published, KEYS) == sorted(KEYS)


def test_an_empty_list_matches_nothing_and_unknown_values_are_ignored(published: Runtime) -> None:
    assert _keys_in(published, []) == []
    assert _keys_in(published, ["missing", "สมชาย"]) == ["สมชาย"]


def test_a_list_longer_than_sqlites_parameter_limit_is_one_parameter(published: Runtime) -> None:
    wanted = [f"k{n}" for n in range(40_000)] + ["a"]
    assert _keys_in(published, wanted) == ["a"]
