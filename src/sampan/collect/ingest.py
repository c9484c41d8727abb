"""The write path of the event log: group commit of accepted messages, write-key cache."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sampan.collect.models import Event
from sampan.collect.segment_spec import AcceptedMessage
from sampan.db.engine import Database
from sampan.db.upsert import insert_ignoring_duplicates

# Serialises event inserts across processes on PostgreSQL, so sequence numbers commit in
# order and a consumer's cursor never skips an event committed late with a lower seq.
_EVENT_LOG_LOCK = 72_616_001


def store_messages(
    session: Session, *, source_id: str, messages: Sequence[AcceptedMessage], received_ms: int
) -> None:
    """Append messages to the log; a message id already stored for the source is ignored."""
    _append(session, _rows(source_id, messages, received_ms))


def _rows(
    source_id: str, messages: Sequence[AcceptedMessage], received_ms: int
) -> list[dict[str, Any]]:
    return [
        {
            "source_id": source_id,
            "message_id": m.message_id,
            "type": m.type,
            "name": m.name,
            "user_id": m.user_id,
            "anonymous_id": m.anonymous_id,
            "channel": m.channel,
            "timestamp_ms": m.timestamp_ms,
            "received_ms": received_ms,
            "body": m.body,
        }
        for m in messages
    ]


def _append(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_EVENT_LOG_LOCK})"))
    insert_ignoring_duplicates(session, Event, rows, ["source_id", "message_id"])


@dataclass
class _Pending:
    source_id: str
    messages: Sequence[AcceptedMessage]
    received_ms: int
    done: Future[None]


class IngestWriter:
    """One thread that commits every pending request in a single transaction.

    A request's future resolves only after its transaction committed, so the API answers
    200 only for durable events; batching many requests per commit amortises the fsync.
    """

    def __init__(self, db: Database, *, on_commit: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_commit = on_commit
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="sampan-ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def submit(
        self, *, source_id: str, messages: Sequence[AcceptedMessage], received_ms: int
    ) -> Future[None]:
        """Queue messages for the next commit and return a future resolved once durable."""
        done: Future[None] = Future()
        self._queue.put(_Pending(source_id, messages, received_ms, done))
        return done

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            pending = [first]
            stop = False
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                pending.append(item)
            self._commit(pending)
            if stop:
                return

    def _commit(self, pending: list[_Pending]) -> None:
        try:
            rows = [
                row
                for item in pending
                for row in _rows(item.source_id, item.messages, item.received_ms)
            ]
            with self._db.transaction() as session:
                _append(session, rows)
        except Exception as exc:  # noqa: BLE001 - every waiting request must learn of it
            for item in pending:
                item.done.set_exception(exc)
            return
        for item in pending:
            item.done.set_result(None)
        if self._on_commit is not None:
            self._on_commit()
