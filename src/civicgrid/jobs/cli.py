"""``civicgrid sweep``: the SLA sweeper from the command line (cron, or a loop of its own)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console


def sweep(
    loop: Annotated[bool, typer.Option("--loop", help="持续运行，每隔 --interval 秒扫描一次")] = False,
    interval: Annotated[int, typer.Option(help="扫描间隔（秒）")] = 60,
) -> None:
    """扫描处置时限：八成用时发黄灯预警、超期发红灯督办（每件每级只发一次）。"""
    import time

    from civicgrid.jobs.sweeper import run_once

    while True:
        r = run_once()
        msg = (
            "另一个进程正在扫描，本次跳过"
            if r.skipped
            else f"黄灯预警 {r.warnings} 件，红灯超期督办 {r.overdue} 件"
        )
        Console().print(msg)
        if not loop:
            return
        time.sleep(interval)


def register(app: typer.Typer) -> None:
    """Add the job commands to the ``civicgrid`` command line."""
    app.command("sweep")(sweep)
