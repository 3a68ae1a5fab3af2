"""What the command-line tools share: the output consoles and a progress bar for long work (on stderr)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
err = Console(stderr=True)


def progress() -> Progress:
    """A progress bar with a count and the elapsed time, drawn on stderr so that stdout stays parseable."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )
