"""``sampan dsar``, ``sampan consent`` and ``sampan retention``: privacy work from a shell."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sampan.access.schemas import Principal
from sampan.cli.common import JsonFlag, emit, fail, load_runtime
from sampan.consent import service as consent
from sampan.consent.schemas import RequestCreate
from sampan.core.errors import InvalidInput, SampanError

dsar_app = typer.Typer(
    help="Data-subject requests: list, open, export, erase.", no_args_is_help=True
)
consent_app = typer.Typer(help="Consent records.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention rules and their enforcement.", no_args_is_help=True)
console = Console()
_STATUSES = ("open", "in_progress", "completed", "rejected")


def _operator() -> Principal:
    """Return the shell user as the actor: the CLI runs with the database's full rights."""
    user = getpass.getuser()
    return Principal(
        kind="system", id=f"cli:{user}", name=user, role="admin", permissions=frozenset({"*"})
    )


@dsar_app.command("list")
def dsar_list(
    overdue: Annotated[bool, typer.Option(help="Only open requests past their due date.")] = False,
    status: Annotated[
        str | None, typer.Option(help="open, in_progress, completed, rejected")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List data-subject requests, soonest due first."""
    if status is not None and status not in _STATUSES:
        console.print(f"[red]--status must be one of {', '.join(_STATUSES)}[/]")
        raise typer.Exit(code=2)
    runtime = load_runtime()
    with runtime.db.reading() as session:
        page = consent.list_requests(session, status=status, overdue=overdue, limit=200)
    if as_json:
        emit(page.model_dump(mode="json"))
        return
    table = Table("id", "type", "profile", "status", "due", "overdue")
    for item in page.items:
        table.add_row(
            item.id,
            item.type,
            item.profile_id,
            item.status,
            item.due_at.date().isoformat(),
            "[red]yes[/]" if item.overdue else "",
        )
    console.print(table)
    console.print(f"{page.total} request(s)")


@dsar_app.command("open")
def dsar_open(
    request_type: Annotated[
        str, typer.Option("--type", help="access, rectification, erasure, restriction, objection")
    ],
    profile: Annotated[str, typer.Option(help="The person's profile id.")],
    requester: Annotated[str, typer.Option(help="Who asked, and how to reach them.")],
    note: Annotated[str, typer.Option(help="How the requester's identity was verified.")] = "",
    traits: Annotated[
        str | None, typer.Option(help='Rectification: corrected traits as JSON, {"name": "…"}.')
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a data-subject request; it is due in 30 days."""
    runtime = load_runtime()
    try:
        body = RequestCreate.model_validate(
            {
                "type": request_type,
                "profile_id": profile,
                "requester": requester,
                "verification_note": note,
                "details": {"traits": json.loads(traits)} if traits else {},
            }
        )
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(code=2) from None
    try:
        with runtime.db.transaction() as session:
            opened = consent.open_request(
                session, request=body, actor=_operator(), due_days=runtime.settings.dsar_due_days
            )
    except SampanError as exc:
        raise fail(exc) from None
    if as_json:
        emit(opened.model_dump(mode="json"))
        return
    console.print(f"Opened {opened.id}, due {opened.due_at.date().isoformat()}")


@dsar_app.command("export")
def dsar_export(
    target: Annotated[str, typer.Argument(help="A profile id, or an access request id (dsr_…).")],
    out: Annotated[Path, typer.Option(help="Where to write the ZIP.")],
) -> None:
    """Write everything held about a person to a ZIP; an access request is closed by it."""
    runtime = load_runtime()
    try:
        with runtime.db.transaction() as session:
            if target.startswith("dsr_"):
                archive = consent.export_request(
                    session, registry=runtime.registry, request_id=target, actor=_operator()
                )
            else:
                archive = consent.export_person(
                    session, registry=runtime.registry, profile_id=target, actor=_operator()
                )
    except SampanError as exc:
        raise fail(exc) from None
    out.write_bytes(archive)
    console.print(f"Wrote {out} ({len(archive)} bytes)")


@dsar_app.command("erase")
def dsar_erase(
    target: Annotated[str, typer.Argument(help="A profile id, or an erasure request id (dsr_…).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase a person everywhere; their identifiers stay suppressed as salted hashes."""
    if not yes:
        console.print("[red]Erasure cannot be undone: add --yes to confirm.[/]")
        raise typer.Exit(code=2)
    runtime = load_runtime()
    try:
        with runtime.db.transaction() as session:
            if target.startswith("dsr_"):
                found = consent.get_request(session, request_id=target)
                if found.type != "erasure":
                    raise InvalidInput(
                        f"{target} is a {found.type} request; erase fulfils erasure requests only"
                    )
                closed = consent.fulfil_request(
                    session,
                    registry=runtime.registry,
                    request_id=target,
                    actor=_operator(),
                    currency=runtime.settings.default_currency,
                )
                result: dict[str, Any] = closed.result
            else:
                report = consent.erase_person(
                    session, registry=runtime.registry, profile_id=target, actor=_operator()
                )
                result = report.model_dump(mode="json")
    except SampanError as exc:
        raise fail(exc) from None
    runtime.db.flush_log()
    if as_json:
        emit(result)
        return
    console.print(f"Erased {target}: {json.dumps(result, ensure_ascii=False)}")


@consent_app.command("import")
def consent_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A UTF-8 CSV file.")],
    as_json: JsonFlag = False,
) -> None:
    """Import consents from CSV (see docs/privacy.md for the columns); all rows or none."""
    runtime = load_runtime()
    try:
        with runtime.db.transaction() as session:
            report = consent.import_consents(
                session, text=path.read_text(encoding="utf-8-sig"), catalog=runtime.catalog
            )
            runtime.catch_up(session)
    except SampanError as exc:
        raise fail(exc) from None
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    console.print(f"Imported {report.rows} row(s); {report.events_logged} new event(s) logged")


@retention_app.command("run")
def retention_run(as_json: JsonFlag = False) -> None:
    """Enforce the retention rules now and print what was removed."""
    runtime = load_runtime()
    with runtime.db.transaction() as session:
        run = consent.enforce_retention(
            session,
            registry=runtime.registry,
            days=runtime.settings.retention_days,
            actor=_operator(),
        )
    runtime.db.flush_log()
    if as_json:
        emit(run.model_dump(mode="json"))
        return
    for name, count in run.removed.items():
        console.print(f"{name}: removed {count}")


@retention_app.command("show")
def retention_show(as_json: JsonFlag = False) -> None:
    """Print the retention period of each class of data and the latest runs."""
    runtime = load_runtime()
    with runtime.db.reading() as session:
        report = consent.retention_report(
            session, registry=runtime.registry, days=runtime.settings.retention_days
        )
    if as_json:
        emit(report.model_dump(mode="json"))
        return
    table = Table("class", "days", "description")
    for rule in report.rules:
        table.add_row(rule.name, str(rule.days) if rule.days > 0 else "kept", rule.description)
    console.print(table)
