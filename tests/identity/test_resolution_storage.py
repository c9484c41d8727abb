"""Resolution through the database gives the in-memory result, however events are batched."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sampan.db.engine import connect
from sampan.identity import service as identity
from sampan.identity.identifiers import IdentityRules
from sampan.identity.models import IdentityRecord

RULES = IdentityRules.build()
VALUES = st.sampled_from(
    [("userId", f"M{i}") for i in range(3)]
    + [("anonymousId", f"a{i}") for i in range(6)]
    + [("email", f"p{i}@example.co.th") for i in range(4)]
    + [("phone", f"08123456{i:02d}") for i in range(4)]
)


def to_message(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "identify", "traits": {}}
    for key, value in pairs:
        if key in ("userId", "anonymousId"):
            message[key] = value
        else:
            message["traits"][key] = value
    return message


def partition(url: str, messages: list[dict[str, Any]], cuts: list[int]) -> set[frozenset[str]]:
    db = connect(url)
    try:
        start = 0
        for cut in [*sorted(set(cuts)), len(messages)]:
            chunk = messages[start:cut]
            start = max(start, cut)
            with db.transaction() as session:
                identity.resolve_events(
                    session, events=list(enumerate(chunk, start=1)), rules=RULES
                )
        with db.reading() as session:
            rows = session.scalars(select(IdentityRecord)).all()
        groups: dict[str, set[str]] = {}
        for row in rows:
            groups.setdefault(row.profile_id, set()).add(f"{row.type}:{row.value}")
        return {frozenset(g) for g in groups.values()}
    finally:
        db.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(
        st.lists(VALUES, min_size=1, max_size=3, unique_by=lambda p: p[0]), min_size=1, max_size=15
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=15), max_size=4),
)
def test_batching_does_not_change_the_outcome(
    sqlite_template: Path, events: list[list[tuple[str, str]]], cuts: list[int]
) -> None:
    messages = [to_message(pairs) for pairs in events]
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.db"
        many = Path(tmp) / "many.db"
        shutil.copy(sqlite_template, one)
        shutil.copy(sqlite_template, many)
        assert partition(f"sqlite:///{one}", messages, []) == partition(
            f"sqlite:///{many}", messages, cuts
        )
