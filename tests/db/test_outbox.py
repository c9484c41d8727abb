"""The outbox hands each consumer every event once, in order, and again only after a rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sampan.db.outbox import publish, take
from sampan.runtime import Runtime

AT = datetime(2026, 11, 23, tzinfo=UTC)


def _publish(runtime: Runtime, *keys: str) -> None:
    with runtime.db.transaction() as session:
        for key in keys:
            publish(session, topic="test.happened", key=key, payload={"k": key}, at=AT)


def _take(runtime: Runtime, consumer: str) -> list[str]:
    with runtime.db.transaction() as session:
        return [e.key for e in take(session, consumer=consumer, topics=["test.happened"])]


def test_each_consumer_gets_every_event_once_in_order(runtime: Runtime) -> None:
    _publish(runtime, "a", "b")
    _publish(runtime, "c")
    assert _take(runtime, "one") == ["a", "b", "c"]
    assert _take(runtime, "one") == []
    assert _take(runtime, "two") == ["a", "b", "c"]
    _publish(runtime, "d")
    assert _take(runtime, "one") == ["d"]


def test_a_failed_consumer_transaction_gets_the_same_events_again(runtime: Runtime) -> None:
    _publish(runtime, "a")

    def react_and_fail() -> None:
        with runtime.db.transaction() as session:
            taken = take(session, consumer="c", topics=["test.happened"])
            assert [e.key for e in taken] == ["a"]
            raise RuntimeError("the reaction failed")

    with pytest.raises(RuntimeError, match="reaction failed"):
        react_and_fail()
    assert _take(runtime, "c") == ["a"]


def test_other_topics_are_not_delivered(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        publish(session, topic="other.thing", key="x", payload={}, at=AT)
    assert _take(runtime, "c") == []
