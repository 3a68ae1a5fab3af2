"""What the command-line tools share: the output consoles, a progress bar for long work (on stderr) and the
parser every time option uses.

Nothing heavy is imported here at module level: ``civicgrid --help`` imports every domain's ``cli.py``, and
those import this module. Rich is imported when a command first prints.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class _LazyConsole:
    """A ``rich.console.Console`` made on first use (importing rich costs a quarter of a second)."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console: Any = _LazyConsole(stderr=False)
err: Any = _LazyConsole(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a Chinese error on stderr; raise the returned Exit to stop the command with ``code``."""
    err.print(f"[red]错误：[/red]{message}")
    return typer.Exit(code)


def progress() -> Progress:
    """A progress bar with a count and the elapsed time, drawn on stderr so that stdout stays parseable."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.get(),
    )


TIME_HELP = "日期或时刻，如 2026-10-01、2026-10-01T08:30 或 2026-10-01 08:30；不带时区按北京时间"


def moment(text: str) -> datetime:
    """A command-line time: a plain date (its midnight) or a date and time, ISO 8601 with ``T`` or a space.
    Without a zone it is returned naive: the command reads it in the district's time zone (``local``).
    Raises ``typer.BadParameter``."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        except ValueError:
            raise typer.BadParameter(
                f"无法识别的时间“{text}”，请写成 2026-10-01 或 2026-10-01T08:30"
            ) from None
    return value


def local(value: datetime | None, timezone: str) -> datetime | None:
    """``value`` with the district's time zone if it has none (a time typed on the command line)."""
    from zoneinfo import ZoneInfo

    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(timezone))
