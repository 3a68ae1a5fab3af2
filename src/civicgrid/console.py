"""What the command-line tools share: the output consoles and a progress bar for long work (on stderr)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a Chinese error on stderr; raise the returned Exit to stop the command with ``code``."""
    err.print(f"[red]错误：[/red]{message}")
    return typer.Exit(code)


def progress() -> Progress:
    """A progress bar with a count and the elapsed time, drawn on stderr so that stdout stays parseable."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )
