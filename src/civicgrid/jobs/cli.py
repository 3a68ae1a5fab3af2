"""``civicgrid jobs list|run`` (the periodic jobs), ``civicgrid services list|run`` (the long-running
listeners) and ``civicgrid sweep`` (the SLA sweeper alone, as before)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from civicgrid.console import console, fail

jobs_app = typer.Typer(help="定时任务（时限扫描、消息投递等）", no_args_is_help=True)
services_app = typer.Typer(help="常驻服务（各在独立进程中运行，如监测站接入）", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list() -> None:
    """列出已登记的定时任务及其间隔。"""
    from rich.table import Table

    from civicgrid.jobs.runner import interval_of, registered

    table = Table(title="定时任务")
    for col in ("名称", "说明", "间隔（秒）"):
        table.add_column(col)
    for job in registered():
        every = interval_of(job)
        table.add_row(job.name, job.label, f"{every:g}" if every > 0 else "已关闭")
    console.print(table)


@jobs_app.command("run")
def jobs_run(
    names: Annotated[list[str] | None, typer.Argument(help="任务名称；不填则运行全部")] = None,
    loop: Annotated[bool, typer.Option("--loop", help="持续运行，各按自己的间隔（Ctrl-C 停止）")] = False,
) -> None:
    """运行定时任务一次（或 --loop 持续运行）。"""
    from civicgrid.jobs.runner import JobRunner, registered, run_job

    try:
        jobs = registered(names or ())
    except KeyError as exc:
        raise fail(str(exc.args[0]), 2) from None
    if not loop:
        failed = False
        for job in jobs:
            try:
                console.print(f"{job.name}：{run_job(job)}")
            except Exception as exc:  # report and go on with the others
                failed = True
                console.print(f"[red]{job.name} 失败：[/red]{type(exc).__name__}: {exc}")
        if failed:
            raise typer.Exit(1)
        return
    runner = JobRunner(jobs)
    console.print(
        f"持续运行 {len(runner.jobs)} 个定时任务：{'、'.join(j.name for j in runner.jobs)}（Ctrl-C 停止）"
    )
    runner.start()
    try:
        while runner.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        runner.stop()


@services_app.command("list")
def services_list() -> None:
    """列出已登记的常驻服务及其状态（来自心跳文件）。"""
    from civicgrid.jobs.services import registered, status

    lines = status()
    from rich.table import Table

    table = Table(title="常驻服务")
    for col in ("名称", "说明", "状态"):
        table.add_column(col)
    for s in registered():
        table.add_row(s.name, s.label, lines.get(s.name, ""))
    console.print(table)


@services_app.command("run")
def services_run(
    names: Annotated[list[str] | None, typer.Argument(help="服务名称；不填则运行全部")] = None,
) -> None:
    """在独立进程中运行常驻服务，崩溃自动重启；SIGTERM / Ctrl-C 时逐个停止。"""
    from civicgrid.jobs.services import Supervisor, registered

    try:
        services = registered(names or ())
    except KeyError as exc:
        raise fail(str(exc.args[0]), 2) from None
    if not services:
        raise fail("没有登记任何常驻服务", 2)
    console.print(f"启动 {len(services)} 个常驻服务：{'、'.join(s.name for s in services)}")
    Supervisor(services).run()
    console.print("常驻服务已全部停止。")


def sweep(
    loop: Annotated[bool, typer.Option("--loop", help="持续运行，每隔 --interval 秒扫描一次")] = False,
    interval: Annotated[int, typer.Option(help="扫描间隔（秒）")] = 60,
) -> None:
    """扫描处置时限：八成用时发黄灯预警、超期发红灯预警（每件每级只发一次）。"""
    from civicgrid.jobs.sweeper import run_job

    while True:
        console.print(run_job())
        if not loop:
            return
        time.sleep(interval)


def register(app: typer.Typer) -> None:
    """Add the job and service commands to the ``civicgrid`` command line."""
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(services_app, name="services")
    app.command("sweep")(sweep)
