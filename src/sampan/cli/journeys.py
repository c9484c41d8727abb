"""``sampan journeys``: list, install playbooks, publish, pause, resume, archive, metrics."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sampan.cli.common import JsonFlag, emit, fail, load_runtime
from sampan.core.errors import SampanError
from sampan.journeys import service as journeys
from sampan.journeys.schemas import JourneyOut, PlaybookInstall

journeys_app = typer.Typer(
    help="Journeys: playbooks, publishing, pausing, metrics.", no_args_is_help=True
)
console = Console()


@journeys_app.command("list")
def journeys_list(as_json: JsonFlag = False) -> None:
    """List journeys, newest first."""
    rt = load_runtime()
    with rt.db.reading() as session:
        found = journeys.list_journeys(session)
    if as_json:
        emit([j.model_dump(mode="json") for j in found])
        return
    table = Table("id", "name", "status", "version", "playbook")
    for j in found:
        table.add_row(j.id, j.name, j.status, str(j.version), j.playbook or "")
    console.print(table)


@journeys_app.command("playbooks")
def journeys_playbooks(as_json: JsonFlag = False) -> None:
    """List the playbooks shipped with Sampan."""
    found = journeys.list_playbooks()
    if as_json:
        emit([p.model_dump(mode="json") for p in found])
        return
    table = Table("key", "name", "entry", "nodes")
    for p in found:
        table.add_row(p.key, p.name, p.entry, str(p.nodes))
    console.print(table)


@journeys_app.command("install")
def journeys_install(
    key: Annotated[str, typer.Argument(help="A playbook key, see `sampan journeys playbooks`.")],
    publish: Annotated[bool, typer.Option("--publish", help="Make it live at once.")] = False,
    channel: Annotated[
        list[str] | None,
        typer.Option(help="kind=channel name, e.g. line=line-oa (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Install a playbook: its templates, the segments it needs, and the journey."""
    rt = load_runtime()
    mapping: dict[str, str] = {}
    for item in channel or []:
        kind, sep, name = item.partition("=")
        if not sep or not name:
            console.print(f"[red]--channel {item!r}: write kind=name, e.g. line=line-oa[/]")
            raise typer.Exit(code=1)
        mapping[kind] = name
    try:
        data = PlaybookInstall.model_validate({"channels": mapping, "publish": publish})
        with rt.db.transaction() as session:
            installed = journeys.install_playbook(session, key=key, data=data, env=rt.journey_env())
    except SampanError as exc:
        raise fail(exc) from None
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(code=1) from None
    _report(installed, as_json, "installed")


def _change(journey_id: str, action: str, as_json: bool) -> None:
    rt = load_runtime()
    env = rt.journey_env()
    try:
        with rt.db.transaction() as session:
            if action == "publish":
                out = journeys.publish_journey(session, journey_id=journey_id, env=env)
            elif action == "archive":
                out = journeys.archive_journey(session, journey_id=journey_id)
            else:
                out = journeys.pause_journey(
                    session, journey_id=journey_id, paused=action == "pause"
                )
    except SampanError as exc:
        raise fail(exc) from None
    _report(out, as_json, action)


def _report(journey: JourneyOut, as_json: bool, action: str) -> None:
    if as_json:
        emit(journey.model_dump(mode="json"))
    else:
        console.print(
            f"Journey {journey.id} ({journey.name}) {action}: {journey.status}, "
            f"version {journey.version}."
        )


@journeys_app.command("publish")
def journeys_publish(journey_id: str, as_json: JsonFlag = False) -> None:
    """Publish the draft as a new version and make the journey live."""
    _change(journey_id, "publish", as_json)


@journeys_app.command("pause")
def journeys_pause(journey_id: str, as_json: JsonFlag = False) -> None:
    """Stop entries and hold the timers."""
    _change(journey_id, "pause", as_json)


@journeys_app.command("resume")
def journeys_resume(journey_id: str, as_json: JsonFlag = False) -> None:
    """Let a paused journey run again."""
    _change(journey_id, "resume", as_json)


@journeys_app.command("archive")
def journeys_archive(journey_id: str, as_json: JsonFlag = False) -> None:
    """End the runs in flight and archive the journey."""
    _change(journey_id, "archive", as_json)


@journeys_app.command("metrics")
def journeys_metrics(journey_id: str, as_json: JsonFlag = False) -> None:
    """Show runs by status, counts per node, conversions and uplift."""
    rt = load_runtime()
    try:
        with rt.db.reading() as session:
            found = journeys.journey_metrics(session, journey_id=journey_id)
    except SampanError as exc:
        raise fail(exc) from None
    if as_json:
        emit(found.model_dump(mode="json"))
        return
    console.print(
        f"entered {found.entered}, active {found.active} (waiting {found.waiting}), "
        f"completed {found.completed}, exited {found.exited}, held out {found.held_out}, "
        f"failed {found.failed}"
    )
    table = Table("node", "type", "entered", "waiting", "outcomes", "messages")
    for node in found.nodes:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(node.outcomes.items()))
        messages = ", ".join(f"{k} {v}" for k, v in sorted(node.messages.items()))
        table.add_row(
            node.node_id, node.type, str(node.entered), str(node.waiting), outcomes, messages
        )
    console.print(table)
    for arm in found.arms:
        console.print(
            f"{arm.arm}: {arm.converted}/{arm.runs} converted "
            f"({arm.conversion_rate:.1%}), revenue ฿{arm.revenue:,.2f}"
        )
    for uplift in found.uplift:
        p_value = "n/a" if uplift.p_value is None else f"{uplift.p_value:.3g}"
        console.print(
            f"uplift {uplift.arm} vs holdout: {uplift.absolute:+.1%} "
            f"(95% CI {uplift.ci_low:+.1%} to {uplift.ci_high:+.1%}, p {p_value})"
        )
