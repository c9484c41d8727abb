"""``sampan users``: console users from a shell, where no one is logged in yet."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sampan.access import service as access
from sampan.access.schemas import Principal
from sampan.cli.workspace import ensure_schema
from sampan.core.errors import SampanError
from sampan.runtime import Runtime
from sampan.settings import Settings

users_app = typer.Typer(help="Console users and their roles.", no_args_is_help=True)
console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]


def operator() -> Principal:
    """Return the shell user as the audited actor: the CLI has the database's full rights."""
    user = getpass.getuser()
    return Principal(
        kind="system", id=f"cli:{user}", name=user, role="admin", permissions=frozenset({"*"})
    )


def _runtime() -> Runtime:
    runtime = Runtime.from_settings(Settings())
    ensure_schema(runtime)
    return runtime


def _emit(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Log-in e-mail address.")],
    name: Annotated[str, typer.Option(help="Name shown in the console and audit log.")],
    role: Annotated[
        str,
        typer.Option(
            help="admin|privacy_officer|service_agent|store_staff|marketer|analyst|developer"
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a console user (the password is prompted for, or read from stdin)."""
    password = _password(password_stdin)
    runtime = _runtime()
    try:
        with runtime.db.transaction() as session:
            user = access.create_user(
                session, email=email, name=name, role=role, password=password, actor=operator()
            )
    except SampanError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from exc
    finally:
        runtime.dispose()
    if as_json:
        _emit(user.model_dump(mode="json"))
        return
    console.print(f"User {user.id} {user.email} ({user.role}) created.")


@users_app.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """List console users."""
    runtime = _runtime()
    try:
        with runtime.db.reading() as session:
            users = access.list_users(session)
    finally:
        runtime.dispose()
    if as_json:
        _emit({"users": [u.model_dump(mode="json") for u in users]})
        return
    table = Table("id", "email", "name", "role", "disabled", "locked until", "last login")
    for u in users:
        table.add_row(
            u.id,
            u.email,
            u.name,
            u.role,
            "yes" if u.disabled else "no",
            str(u.locked_until or ""),
            str(u.last_login_at or ""),
        )
    console.print(table)
