"""Views are audited in group commits: every entry committed before its request returns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sampan.access import service as access
from sampan.access.schemas import SYSTEM
from sampan.runtime import Runtime


def test_concurrent_views_are_all_committed_in_shared_transactions(runtime: Runtime) -> None:
    transactions = 0
    real = runtime.db

    class CountingDb:
        @contextmanager
        def transaction(self) -> Iterator[Session]:
            nonlocal transactions
            transactions += 1
            with real.transaction() as session:
                yield session

    batcher = access.AuditBatcher(CountingDb())  # type: ignore[arg-type]
    start = threading.Barrier(16)

    def view(n: int) -> None:
        start.wait()
        for i in range(10):
            batcher.record(
                actor=SYSTEM,
                action="profile.viewed",
                subject_type="profile",
                subject_id=f"p{n}-{i}",
            )

    threads = [threading.Thread(target=view, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with runtime.db.reading() as session:
        entries = access.list_audit(session, action="profile.viewed", limit=500).items
    assert sorted(e.subject_id or "" for e in entries) == sorted(
        f"p{n}-{i}" for n in range(16) for i in range(10)
    )
    assert transactions < 160


def test_a_failed_write_fails_every_request_of_its_batch(runtime: Runtime) -> None:
    class BrokenDb:
        @contextmanager
        def transaction(self) -> Iterator[Any]:
            raise OSError("disk full")
            yield

    batcher = access.AuditBatcher(BrokenDb())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="the audit log could not be written"):
        batcher.record(actor=SYSTEM, action="profile.viewed", subject_type="profile")
