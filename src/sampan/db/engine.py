"""Engine and session factory for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class FairLock:
    """A lock granted in arrival order, so a busy writer cannot starve the others.

    ``threading.Lock`` lets the releasing thread take the lock straight back, which let
    the pipeline worker starve the ingest writer.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._condition.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *_: object) -> None:
        with self._condition:
            self._serving += 1
            self._condition.notify_all()


@dataclass(frozen=True)
class Database:
    """An engine and its session factory; the unit of work opens sessions from it."""

    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    # SQLite has one writer at a time; threads of this process queue on this lock instead
    # of on SQLite's busy handler, which sleeps up to 100 ms between retries.
    write_lock: FairLock | None = None

    @property
    def is_sqlite(self) -> bool:
        """Whether the backend is the embedded SQLite default."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Yield a session whose work is committed on success and rolled back on error."""
        if self.write_lock is None:
            with self.sessions.begin() as session:
                yield session
            return
        with self.write_lock, self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for reads only; on SQLite it does not take the write lock."""
        with self.read_sessions() as session:
            yield session

    def flush_log(self) -> None:
        """Copy SQLite's write-ahead log into the database file and empty it.

        After an erasure the log still holds the pages as they were before; emptying it
        leaves the erased values nowhere on disk. Best effort: active readers may keep
        some frames until the next checkpoint. PostgreSQL needs nothing here.
        """
        if not self.is_sqlite or self.write_lock is None:
            return
        # Outside any transaction: SQLAlchemy's BEGIN IMMEDIATE would make it fail.
        with self.write_lock:
            raw = self.engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
            finally:
                raw.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self.read_sessions.kw["bind"].dispose()


def _configure_sqlite(engine: Engine, synchronous: str, *, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so BEGIN IMMEDIATE is possible and
        # pysqlite's implicit transactions do not fight with it.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Erasure under PDPA must not leave the deleted values readable in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    if not writer:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction that starts as a reader can fail with SQLITE_BUSY when it
        # upgrades; taking the write lock up front makes busy_timeout apply instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _dump_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def connect(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    echo: bool = False,
    write_lock: FairLock | None = None,
) -> Database:
    """Create the engine for ``url``, creating the SQLite file's folder if needed.

    Databases that share a SQLite file within one process should share ``write_lock``.
    """
    options: dict[str, Any] = {
        "echo": echo,
        "pool_size": 8,
        "max_overflow": 8,
        "json_serializer": _dump_json,
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        args: dict[str, Any] = {"check_same_thread": False}
        engine = create_engine(url, connect_args=args, **options)
        reader = create_engine(url, connect_args=args, **options)
        _configure_sqlite(engine, sqlite_synchronous, writer=True)
        _configure_sqlite(reader, sqlite_synchronous, writer=False)
    else:
        engine = create_engine(url, pool_pre_ping=True, **options)
        reader = engine
    return Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        read_sessions=sessionmaker(reader, expire_on_commit=False),
        write_lock=(write_lock or FairLock()) if url.startswith("sqlite") else None,
    )
