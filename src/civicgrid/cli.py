"""The ``civicgrid`` command line. Each command opens one unit of work; output is Chinese-friendly.

``civicgrid --help`` must stay fast: this module and every domain's ``cli.py`` import only Typer and the
standard library at module level; a command imports what it needs (SQLAlchemy, the classifier, shapely…)
inside its function. ``tests/cli/test_cli_basics.py`` holds them to it.
"""

from __future__ import annotations

from collections.abc import Callable
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
    pretty_exceptions_show_locals=False,
)

# Commands that make (or replace) the database themselves; every other command needs a migrated one.
CREATES_DATABASE = frozenset({"init", "migrate", "restore"})
# Commands that need the database before they open it through SQLAlchemy (checked up front).
DATABASE_FIRST = frozenset({"backup"})  # `serve` checks it itself, after its own refusals


@app.callback()
def _every_command(ctx: typer.Context) -> None:
    """Refuse, with a Chinese message and no traceback, to run on a missing or unmigrated database: checked
    up front for ``DATABASE_FIRST`` commands and on the first connection for the others (so commands that
    never touch the database, and ``--help``, run anywhere). Nothing is created."""
    import sys

    name = ctx.invoked_subcommand
    if name in CREATES_DATABASE or ctx.resilient_parsing or "--help" in sys.argv[1:]:
        return
    if name in DATABASE_FIRST:
        _require_database()
    else:
        ctx.call_on_close(_check_on_first_connection())


def _require_database() -> None:
    from civicgrid.settings import get_settings

    problem = database_problem(get_settings().database_url)
    if problem:
        raise fail(problem, code=2)


def _check_on_first_connection() -> Callable[[], None]:
    """Check the database when the command first connects; returns the undo, run when the command ends (a
    command run in-process, as the tests do, must not leave the check behind for other engines)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    checked: list[bool] = []

    def before_connect(*_args: object) -> None:
        if not checked:  # (a listener may not remove itself while its event runs)
            checked.append(True)
            _require_database()

    def remove() -> None:
        if event.contains(Engine, "do_connect", before_connect):
            event.remove(Engine, "do_connect", before_connect)

    event.listen(Engine, "do_connect", before_connect)
    return remove


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
    cases: Annotated[int, typer.Option(min=0, help="示范历史案卷数量")] = 5000,
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
    if problem := connection_problem(s.database_url):
        raise fail(problem, code=2)
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
            district = prog.add_task("建立示范区：网格、道路、部门、账号", total=1)
            task = prog.add_task("生成示范历史案卷（含照片）", total=cases, start=False)

            def advance(done: int, total: int) -> None:
                if not prog.tasks[task].started:
                    prog.update(district, completed=1)
                    prog.start_task(task)
                prog.update(task, completed=done)

            summary = build_demo(session, cases=cases, progress=advance)
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
    _require_database()
    console.print(f"CivicGrid 运行于 http://{host}:{port}/ （接口文档 /docs）")
    if workers == 1:
        run_one(opts)  # uvicorn, with the request-head deadline (ops/server.py)
    else:
        run_workers(opts, workers)


# --- Is the database there and migrated? (no side effects) --------------------------------------------------


def database_problem(url: str) -> str | None:
    """Why the database at ``url`` cannot be used yet (missing, unreachable, not migrated, behind), in
    Chinese with what to run; None when it is ready. Creates nothing."""
    current, problem = _schema_version(url)
    if problem:
        return problem
    from alembic.script import ScriptDirectory

    from civicgrid.migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    if not current:
        return f"数据库 {_shown(url)} 还没有初始化（没有表结构）。请先运行 civicgrid init 创建数据库。"
    if not current & heads:
        return (
            f"数据库 {_shown(url)} 的结构不是最新（当前 {', '.join(sorted(current))}，"
            f"最新 {', '.join(sorted(heads))}）。请先运行 civicgrid migrate 升级。"
        )
    return None


def connection_problem(url: str) -> str | None:
    """Why a PostgreSQL database cannot be reached (for ``init``, which creates the tables but not the
    database); None for SQLite, whose file ``init`` creates."""
    if url.startswith("sqlite"):
        return None
    return _schema_version(url)[1]


def _shown(url: str) -> str:
    if url.startswith("sqlite"):
        return url.split("///", 1)[-1]
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _schema_version(url: str) -> tuple[set[str], str | None]:
    """The Alembic revisions recorded in the database, or why they cannot be read."""
    hint = "（数据库由 CIVICGRID_DATABASE_URL 指定；新建数据库请运行 civicgrid init）"
    if url.startswith("sqlite"):
        import sqlite3
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path in ("", ":memory:"):
            return set(), "内存数据库没有表结构，请在 CIVICGRID_DATABASE_URL 中指定数据库文件。"
        if not Path(path).is_file():
            return set(), f"找不到数据库文件 {Path(path).resolve()}{hint}"
        try:
            con = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
            try:
                rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            if "no such table" in str(exc):
                return set(), None
            return set(), f"无法读取数据库文件 {path}：{exc}"
        return {r[0] for r in rows}, None
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            try:
                return {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}, None
            except ProgrammingError:
                return set(), None
    except DBAPIError as exc:
        lines = str(exc.orig or exc).strip().splitlines()
        return set(), (
            f"无法连接数据库 {_shown(url)}：{lines[0] if lines else type(exc).__name__}"
            "（数据库由 CIVICGRID_DATABASE_URL 指定；请确认 PostgreSQL 已启动、数据库已创建（createdb），"
            "再运行 civicgrid init）"
        )
    finally:
        engine.dispose()


# Each domain adds its own commands (``Domain.commands``: modules with ``register(app)``).
for _module in domains.each("commands"):
    domains.resolve(_module).register(app)


def main() -> None:  # pragma: no cover
    app()
