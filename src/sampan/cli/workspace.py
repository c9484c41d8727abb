"""Workspace set-up shared by ``sampan init`` and ``sampan demo``."""

from __future__ import annotations

from dataclasses import dataclass

from sampan.access import service as access
from sampan.collect import service as collect
from sampan.db.migrate import upgrade
from sampan.runtime import Runtime
from sampan.segments import service as segments


@dataclass(frozen=True)
class InitResult:
    """What ``sampan init`` did; secrets only when it created them."""

    created: bool
    database_url: str
    source_id: str | None
    api_key: str | None
    write_key: str | None


def ensure_schema(runtime: Runtime) -> None:
    """Apply pending migrations without creating keys or sources."""
    upgrade(runtime.settings.resolved_database_url())


def initialise(runtime: Runtime) -> InitResult:
    """Apply migrations; on a new workspace create an admin key and a default source."""
    url = runtime.settings.resolved_database_url()
    upgrade(url)
    with runtime.db.transaction() as session:
        if segments.needs_rebuild(session):
            segments.rebuild(
                session,
                context=runtime.segment_context(),
                currency=runtime.settings.default_currency,
            )
        segments.install_ready_made(session, context=runtime.segment_context())
    with runtime.db.transaction() as session:
        if access.count_api_keys(session) > 0:
            sources = collect.list_sources(session)
            return InitResult(
                created=False,
                database_url=url,
                source_id=sources[0].id if sources else None,
                api_key=None,
                write_key=None,
            )
        key = access.issue_api_key(session, name="admin")
        source = collect.create_source(session, name="Default source", kind="server")
    return InitResult(
        created=True,
        database_url=url,
        source_id=source.id,
        api_key=key.api_key,
        write_key=source.write_key,
    )
