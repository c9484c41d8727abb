"""What every command shares: the runtime from settings, JSON output, error exits."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from sampan.core.errors import SampanError
from sampan.runtime import Runtime
from sampan.settings import Settings

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]
console = Console()


def load_runtime() -> Runtime:
    """Return the runtime the environment's settings describe."""
    return Runtime.from_settings(Settings())


def emit(data: Any) -> None:
    """Print ``data`` as one line of JSON, Thai as is."""
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


def fail(exc: SampanError) -> typer.Exit:
    """Print a domain error in red and return the exit to raise."""
    console.print(f"[red]{exc.message}[/]")
    return typer.Exit(code=1)
