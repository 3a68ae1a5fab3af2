"""``civicgrid demo-history``: simulated history straight into the warehouse, for dashboards at scale."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from civicgrid.console import console, progress


def demo_history(
    cases: Annotated[int, typer.Option(help="生成的案卷数量")] = 1_000_000,
    out: Annotated[Path | None, typer.Option("--out", help="输出目录（默认数仓目录）")] = None,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同数据）")] = 20261126,
    months: Annotated[int, typer.Option(help="覆盖的月数（截至本月）")] = 24,
) -> None:
    """生成模拟历史案卷，直接写入数仓 Parquet 分区（不写数据库）。"""
    from civicgrid.analytics.settings import get_analytics_settings
    from civicgrid.demo.generate import generate

    root = out or get_analytics_settings().root
    start = time.perf_counter()
    with progress() as prog:
        task = prog.add_task("生成模拟历史案卷", total=cases)
        result = generate(
            root, cases, months=months, seed=seed, progress=lambda d, t: prog.update(task, completed=d)
        )
    console.print(
        f"已生成 {result.cases:,} 件模拟案卷（{result.months} 个月），写入 {root}，"
        f"用时 {time.perf_counter() - start:.1f} 秒。"
    )


def register(app: typer.Typer) -> None:
    """Add the demo commands to the ``civicgrid`` command line."""
    app.command("demo-history")(demo_history)
