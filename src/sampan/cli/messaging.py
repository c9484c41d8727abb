"""``sampan campaigns`` and ``sampan messages``: broadcasts and the outbox from a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from sampan.cli.common import JsonFlag, emit, fail, load_runtime
from sampan.core.errors import SampanError
from sampan.messaging import service as messaging
from sampan.messaging.schemas import CampaignInput

campaigns_app = typer.Typer(
    help="Campaigns: create, launch, cancel, results.", no_args_is_help=True
)
messages_app = typer.Typer(help="The message outbox: list, retry.", no_args_is_help=True)
console = Console()


@campaigns_app.command("list")
def campaigns_list(as_json: JsonFlag = False) -> None:
    """List campaigns, newest first."""
    rt = load_runtime()
    with rt.db.reading() as session:
        found = messaging.list_campaigns(session)
    if as_json:
        emit([c.model_dump(mode="json") for c in found])
        return
    table = Table("id", "name", "status", "segment", "variants", "control %", "launched")
    for c in found:
        variants = ", ".join(v.name for v in c.variants)
        launched = c.launched_at.isoformat() if c.launched_at else ""
        table.add_row(
            c.id, c.name, c.status, c.segment_id, variants, f"{c.control_percent:g}", launched
        )
    console.print(table)


@campaigns_app.command("create")
def campaigns_create(
    file: Annotated[
        Path, typer.Argument(help="A JSON file in the shape of POST /api/messaging/campaigns.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Create a campaign from a JSON file (a draft, or scheduled with ``scheduled_at``)."""
    rt = load_runtime()
    try:
        data = CampaignInput.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        console.print(f"[red]{file}: {exc}[/]")
        raise typer.Exit(code=1) from None
    try:
        with rt.db.transaction() as session:
            created = messaging.save_campaign(session, data=data, rules=rt.messaging_rules)
    except SampanError as exc:
        raise fail(exc) from None
    if as_json:
        emit(created.model_dump(mode="json"))
    else:
        console.print(f"Campaign {created.id} saved ({created.status}).")


@campaigns_app.command("launch")
def campaigns_launch(campaign_id: str, as_json: JsonFlag = False) -> None:
    """Assign every member an arm and queue the messages now (the worker sends them)."""
    rt = load_runtime()
    try:
        with rt.db.transaction() as session:
            launched = messaging.launch_campaign(
                session,
                campaign_id=campaign_id,
                rules=rt.messaging_rules,
                catalog=rt.catalog,
                currency=rt.settings.default_currency,
            )
    except SampanError as exc:
        raise fail(exc) from None
    if as_json:
        emit(launched.model_dump(mode="json"))
    else:
        console.print(f"Campaign {launched.id} launched; messages are queued.")


@campaigns_app.command("cancel")
def campaigns_cancel(campaign_id: str) -> None:
    """Cancel a campaign; messages still waiting in the queue are not sent."""
    rt = load_runtime()
    try:
        with rt.db.transaction() as session:
            messaging.cancel_campaign(session, campaign_id=campaign_id, rules=rt.messaging_rules)
    except SampanError as exc:
        raise fail(exc) from None
    console.print(f"Campaign {campaign_id} cancelled.")


@campaigns_app.command("stats")
def campaigns_stats(campaign_id: str, as_json: JsonFlag = False) -> None:
    """Show each arm's results and the uplift against the control group."""
    rt = load_runtime()
    try:
        with rt.db.reading() as session:
            stats = messaging.campaign_stats(session, campaign_id=campaign_id)
    except SampanError as exc:
        raise fail(exc) from None
    if as_json:
        emit(stats.model_dump(mode="json"))
        return
    table = Table(
        "arm", "targeted", "sent", "delivered", "opened", "clicked", "converted", "rate", "revenue"
    )
    for arm in stats.arms:
        table.add_row(
            arm.arm,
            str(arm.targeted),
            str(arm.sent),
            str(arm.delivered),
            str(arm.opened),
            str(arm.clicked),
            str(arm.converted),
            f"{arm.conversion_rate:.1%}",
            f"{arm.revenue:,.2f}",
        )
    console.print(table)
    for uplift in stats.uplift:
        p = f"p={uplift.p_value:.3f}" if uplift.p_value is not None else "p=n/a"
        console.print(
            f"{uplift.arm}: {uplift.absolute:+.1%} vs control "
            f"(95% CI {uplift.ci_low:+.1%} to {uplift.ci_high:+.1%}, {p})"
        )


@messages_app.command("list")
def messages_list(
    status: Annotated[str | None, typer.Option(help="queued, sent, failed, ...")] = None,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's messages.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List the newest messages and where they stand."""
    rt = load_runtime()
    with rt.db.reading() as session:
        found = messaging.list_messages(session, status=status, campaign_id=campaign, limit=limit)
    if as_json:
        emit([m.model_dump(mode="json") for m in found])
        return
    table = Table("id", "channel", "status", "attempts", "reason")
    for m in found:
        table.add_row(m.id, m.channel or "", m.status, str(m.attempts), m.reason or "")
    console.print(table)


@messages_app.command("retry")
def messages_retry(message_id: str) -> None:
    """Queue a dead-lettered message again."""
    rt = load_runtime()
    try:
        with rt.db.transaction() as session:
            messaging.retry_message(session, message_id=message_id, rules=rt.messaging_rules)
    except SampanError as exc:
        raise fail(exc) from None
    console.print(f"Message {message_id} queued again.")
