"""``sampan``: initialise a workspace, serve, run workers, load demo data, manage sources."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from sampan.access import service as access
from sampan.api.app import create_app
from sampan.cli.common import JsonFlag, emit, load_runtime
from sampan.cli.demo import run_demo
from sampan.cli.journeys import journeys_app
from sampan.cli.messaging import campaigns_app, messages_app
from sampan.cli.privacy import consent_app, dsar_app, retention_app
from sampan.cli.process import tune_garbage_collector
from sampan.cli.users import operator, users_app
from sampan.cli.workspace import ensure_schema, initialise
from sampan.collect import service as collect
from sampan.core.errors import SampanError
from sampan.worker import (
    HoldExpiry,
    JourneyRunner,
    MessageSender,
    ProfilePipeline,
    RetentionSchedule,
    SegmentSchedule,
)

app = typer.Typer(help="Sampan: omnichannel customer platform.", no_args_is_help=True)
sources_app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Management API keys.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(dsar_app, name="dsar")
app.add_typer(consent_app, name="consent")
app.add_typer(retention_app, name="retention")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(messages_app, name="messages")
app.add_typer(journeys_app, name="journeys")
console = Console()


@app.command()
def init(as_json: JsonFlag = False) -> None:
    """Create the database, an admin API key and a default source (safe to run again)."""
    result = initialise(load_runtime())
    if as_json:
        emit(dataclasses.asdict(result))
        return
    if not result.created:
        console.print(
            f"Workspace already initialised at [bold]{result.database_url}[/]; "
            "nothing changed. Issue another admin key with `sampan keys create`."
        )
        return
    console.print(f"Initialised [bold]{result.database_url}[/]")
    console.print(f"Admin API key (shown once): [bold green]{result.api_key}[/]")
    console.print(f"Default source {result.source_id} write key: [bold]{result.write_key}[/]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run the pipeline worker in-process.")] = True,
) -> None:
    """Serve the tracking and management APIs (and the worker, on the embedded default)."""
    runtime = load_runtime()
    result = initialise(runtime)
    if result.created:
        console.print(
            f"New workspace: admin API key (shown once) [bold green]{result.api_key}[/],"
            f" default write key [bold]{result.write_key}[/]"
        )
    console.print(f"Serving on http://{host}:{port} (API docs at /api/docs)")
    tune_garbage_collector()
    uvicorn.run(
        create_app(runtime, run_worker=worker),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )


@app.command(name="worker")
def run_worker() -> None:
    """Run the pipeline, journeys, the message sender and the schedules in the foreground.

    Several workers may run against PostgreSQL: they share the work without doubling it.
    """
    runtime = load_runtime()
    sender = MessageSender(runtime)
    journey_runner = JourneyRunner(runtime, on_progress=sender.notify)
    pipeline = ProfilePipeline(runtime, on_progress=journey_runner.notify)
    retention = RetentionSchedule(runtime)
    segment_schedule = SegmentSchedule(runtime)
    holds = HoldExpiry(runtime)
    console.print("Worker running; Ctrl+C to stop.")
    tune_garbage_collector()
    retention.start()
    holds.start()
    segment_schedule.start()
    sender.start()
    journey_runner.start()
    try:
        pipeline.run_forever()
    except KeyboardInterrupt:
        console.print(f"Stopped after {pipeline.processed} events.")
    finally:
        retention.stop()
        holds.stop()
        segment_schedule.stop()
        journey_runner.stop()
        sender.stop()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data.")] = 42,
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = 5000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Keep serving after loading.")
    ] = True,
    end: Annotated[
        datetime | None,
        typer.Option(help="Last moment of the 12 months, local time (default now)."),
    ] = None,
) -> None:
    """Load a realistic Thai omnichannel brand through the public API, then serve it."""
    run_demo(
        load_runtime(),
        seed=seed,
        customers=customers,
        host=host,
        port=port,
        serve=serve_after,
        console=console,
        end=end,
    )


@sources_app.command("create")
def sources_create(
    name: str,
    kind: Annotated[str, typer.Option(help="web|app|pos|line|facebook|email|callcenter|server")],
    as_json: JsonFlag = False,
) -> None:
    """Create a source and print its write key (shown only once)."""
    runtime = load_runtime()
    ensure_schema(runtime)
    try:
        with runtime.db.transaction() as session:
            source = collect.create_source(session, name=name, kind=kind)
    except SampanError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from exc
    if as_json:
        emit(
            {
                "id": source.id,
                "name": source.name,
                "kind": source.kind,
                "write_key": source.write_key,
            }
        )
        return
    console.print(f"Source {source.id} ({source.kind}) write key: [bold]{source.write_key}[/]")


@sources_app.command("list")
def sources_list(as_json: JsonFlag = False) -> None:
    """List sources."""
    runtime = load_runtime()
    ensure_schema(runtime)
    with runtime.db.reading() as session:
        sources = collect.list_sources(session)
    if as_json:
        emit({"sources": [s.model_dump(mode="json") for s in sources]})
        return
    table = Table("id", "name", "kind", "enabled", "key prefix")
    for s in sources:
        table.add_row(s.id, s.name, s.kind, "yes" if s.enabled else "no", s.write_key_prefix)
    console.print(table)


def _set_enabled(source_id: str, enabled: bool) -> None:
    runtime = load_runtime()
    ensure_schema(runtime)
    try:
        with runtime.db.transaction() as session:
            collect.set_source_enabled(session, source_id=source_id, enabled=enabled)
    except SampanError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from exc
    console.print(f"Source {source_id} {'enabled' if enabled else 'disabled'}.")


@sources_app.command("disable")
def sources_disable(source_id: str) -> None:
    """Disable a source: its write key is refused from now on."""
    _set_enabled(source_id, False)


@sources_app.command("enable")
def sources_enable(source_id: str) -> None:
    """Enable a disabled source again."""
    _set_enabled(source_id, True)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")] = "admin",
    role: Annotated[str, typer.Option(help="A role, see `sampan users --help`.")] = "admin",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Refuse the key after this many days.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a new management API key (shown only once)."""
    runtime = load_runtime()
    ensure_schema(runtime)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        with runtime.db.transaction() as session:
            key = access.issue_api_key(
                session, name=name, role=role, expires_at=expires_at, issuer=operator()
            )
    except SampanError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from exc
    if as_json:
        emit(
            {
                "id": key.id,
                "name": key.name,
                "role": key.role,
                "expires_at": key.expires_at,
                "api_key": key.api_key,
            }
        )
        return
    console.print(f"API key {key.id} ({key.role}): [bold green]{key.api_key}[/]")
