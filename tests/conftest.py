"""Shared fixtures: a migrated database on SQLite and PostgreSQL, apps, live servers."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from sampan.access import service as access
from sampan.api.app import create_app
from sampan.collect import service as collect
from sampan.db.base import Base
from sampan.db.migrate import upgrade
from sampan.runtime import Runtime
from sampan.settings import Settings

PG_URL = os.environ.get("SAMPAN_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite", "postgresql"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if not PG_URL:
        warnings.warn(
            "SAMPAN_TEST_POSTGRES_URL is not set: every PostgreSQL test is SKIPPED. "
            "Run the suite with `make test`, which starts PostgreSQL.",
            stacklevel=1,
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "sampan.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL is not available (SAMPAN_TEST_POSTGRES_URL unset)")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(PG_URL)
    return PG_URL


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "sampan.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    yield rt
    rt.dispose()


@dataclass
class Workspace:
    """A ready workspace: an API client, an admin key and one web source."""

    client: TestClient
    runtime: Runtime
    api_key: str
    write_key: str
    source_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def state(self) -> Any:
        """The management app's state: pipeline, caches, database."""
        return self.client.app.app.state  # type: ignore[attr-defined]

    def drain(self) -> int:
        """Fold every logged event into profiles now."""
        pipeline = self.state.pipeline
        return int(pipeline.drain())

    def new_source(self, kind: str) -> str:
        with self.runtime.db.transaction() as session:
            return collect.create_source(session, name=f"{kind} source", kind=kind).write_key

    def key_for(self, role: str, scopes: list[str] | None = None) -> dict[str, str]:
        """Issue an API key with this role (and scopes); return its auth headers."""
        with self.runtime.db.transaction() as session:
            key = access.issue_api_key(session, name=f"{role} key", role=role, scopes=scopes)
        return {"Authorization": f"Bearer {key.api_key}"}


def make_workspace(runtime: Runtime) -> tuple[str, str, str]:
    with runtime.db.transaction() as session:
        key = access.issue_api_key(session, name="test")
        source = collect.create_source(session, name="Web shop", kind="web")
    return key.api_key, source.write_key, source.id


@pytest.fixture
def workspace(runtime: Runtime) -> Iterator[Workspace]:
    """An app without the background worker: tests call ``drain()`` to process events."""
    api_key, write_key, source_id = make_workspace(runtime)
    with TestClient(create_app(runtime, run_worker=False)) as client:
        yield Workspace(client, runtime, api_key, write_key, source_id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    workspace: Workspace


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[LiveServer]:
    """A real uvicorn server on loopback, with the in-process worker running."""
    api_key, write_key, source_id = make_workspace(runtime)
    port = free_port()
    app = create_app(runtime)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    client = TestClient(app)
    try:
        yield LiveServer(
            f"http://127.0.0.1:{port}", Workspace(client, runtime, api_key, write_key, source_id)
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
