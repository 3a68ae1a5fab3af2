"""The ``civicgrid`` command line. Each command opens one unit of work; output is Chinese-friendly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from civicgrid import domains
from civicgrid.console import console, err, fail, progress

app = typer.Typer(
    help="CivicGrid 城市网格治理平台：问题发现 → 快速反应 → 有效处置。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.command()
def migrate() -> None:
    """把数据库升级到最新结构（Alembic 迁移）。"""
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    upgrade(get_settings().database_url)
    console.print("数据库结构已是最新。")


@app.command()
def init(
    demo: Annotated[
        bool, typer.Option("--demo", help="同时生成示范区：网格、部门、用户和一年的历史案卷")
    ] = False,
    cases: Annotated[int, typer.Option(help="示范历史案卷数量")] = 5000,
    force: Annotated[
        bool, typer.Option("--force", help="数据库已有数据时仍然继续（仅 SQLite：删除重建）")
    ] = False,
) -> None:
    """创建数据库（迁移到最新结构）并装入类别、部门等基础数据；加 --demo 生成示范区。"""
    from sqlalchemy import func, select

    from civicgrid.catalog.service import load_reference_data
    from civicgrid.db import get_engine, unit_of_work
    from civicgrid.migrate import upgrade
    from civicgrid.models import GridGeneration
    from civicgrid.settings import get_settings

    s = get_settings()
    if force and s.is_sqlite:
        path = Path(s.database_url.split("///", 1)[-1])
        get_engine().dispose()
        for p in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
            p.unlink(missing_ok=True)
        from civicgrid.security.anchors import retire_anchor_file

        if retired := retire_anchor_file():  # its checkpoints anchored the database just deleted
            err.print(f"旧数据库的审计锚点已另存为 {retired}")
    upgrade(s.database_url)
    with unit_of_work() as session:
        if session.scalar(select(func.count()).select_from(GridGeneration)) and demo:
            raise fail("数据库里已经有网格数据；如要重建示范区请加 --force（SQLite）或换一个空数据库")
        if not demo:
            d, c = load_reference_data(session)
            console.print(f"已装入 {d} 个部门、{c} 个问题类别。")
            return
        from civicgrid.demo.build import build_demo

        with progress() as prog:
            task = prog.add_task("生成示范历史案卷", total=cases)
            summary = build_demo(
                session, cases=cases, progress=lambda done, total: prog.update(task, completed=done)
            )
    console.print(
        f"示范区已生成（几何为程序生成）：{summary.streets} 个街道、{summary.communities} 个社区、"
        f"{summary.grids} 个单元网格，"
        f"{summary.departments} 个部门，{summary.categories} 个类别，{summary.routing_rules} 条派遣规则，"
        f"{summary.users} 个账号，{summary.cases} 件历史案卷。演示账号密码均为 civicgrid2026。"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="工作进程数（建议为 CPU 核数的 2 倍）")] = 1,
    threads: Annotated[
        int | None, typer.Option(min=1, max=64, help="每个进程处理数据库请求的线程数（默认取设置，2）")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="逐条记录访问日志（生产环境通常由 nginx 记录）")] = False,
    insecure_demo: Annotated[
        bool, typer.Option("--insecure-demo", help="允许用公开的默认密钥在非本机地址上演示（不安全）")
    ] = False,
) -> None:
    """启动 Web 服务（界面与接口）。"""
    import os

    from civicgrid.ops.server import ServeOptions, check_port, run_one
    from civicgrid.ops.server import run as run_workers
    from civicgrid.settings import get_settings

    if threads is not None:  # worker processes read their settings from the environment
        os.environ["CIVICGRID_THREADS_PER_WORKER"] = str(threads)
        get_settings.cache_clear()

    from civicgrid.security.exposure import insecure_bind_reason

    unsafe = insecure_bind_reason(host, get_settings().secret_key)
    if unsafe and not insecure_demo:
        raise fail(unsafe, code=2)
    if unsafe:
        err.print(
            "[bold red]警告：--insecure-demo 已生效，正用公开的默认密钥对外提供服务，"
            "切勿录入真实数据！[/bold red]"
        )

    opts = ServeOptions(host, port, access_log)
    if workers > 1:
        try:
            check_port(opts)
        except OSError as exc:
            raise typer.BadParameter(f"无法监听 {host}:{port}：{exc.strerror}", param_hint="--port") from None
    console.print(f"CivicGrid 运行于 http://{host}:{port}/ （接口文档 /docs）")
    if workers == 1:
        run_one(opts)  # uvicorn, with the request-head deadline (ops/server.py)
    else:
        run_workers(opts, workers)


# Each domain adds its own commands (``Domain.commands``: modules with ``register(app)``).
for _module in domains.each("commands"):
    domains.resolve(_module).register(app)


def main() -> None:  # pragma: no cover
    app()
