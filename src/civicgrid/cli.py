"""The ``civicgrid`` command line. Each command opens one unit of work; output is Chinese-friendly."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicgrid.errors import AppError

app = typer.Typer(
    help="CivicGrid 城市网格治理平台：问题发现 → 快速反应 → 有效处置。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
user_app = typer.Typer(help="用户管理", no_args_is_help=True)
app.add_typer(user_app, name="user")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]错误：[/red]{message}")
    return typer.Exit(code)


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
    upgrade(s.database_url)
    with unit_of_work() as session:
        if session.scalar(select(func.count()).select_from(GridGeneration)) and demo:
            raise _fail("数据库里已经有网格数据；如要重建示范区请加 --force（SQLite）或换一个空数据库")
        if not demo:
            d, c = load_reference_data(session)
            console.print(f"已装入 {d} 个部门、{c} 个问题类别。")
            return
        from civicgrid.demo.build import build_demo

        with _progress() as prog:
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


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
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
) -> None:
    """启动 Web 服务（界面与接口）。"""
    import os

    import uvicorn

    from civicgrid.ops.server import ServeOptions, check_port
    from civicgrid.ops.server import run as run_workers
    from civicgrid.settings import get_settings

    if threads is not None:  # worker processes read their settings from the environment
        os.environ["CIVICGRID_THREADS_PER_WORKER"] = str(threads)
        get_settings.cache_clear()

    opts = ServeOptions(host, port, access_log)
    if workers > 1:
        try:
            check_port(opts)
        except OSError as exc:
            raise typer.BadParameter(f"无法监听 {host}:{port}：{exc.strerror}", param_hint="--port") from None
    console.print(f"CivicGrid 运行于 http://{host}:{port}/ （接口文档 /docs）")
    if workers == 1:
        uvicorn.run("civicgrid.asgi:app", host=host, port=port, log_level="info", access_log=access_log)
    else:
        run_workers(opts, workers)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="角色，可多次指定：citizen inspector operator shift_lead dispatcher handler leader admin",
        ),
    ],
    password: Annotated[str, typer.Option(help="密码（至少 8 位）")],
    name: Annotated[str, typer.Option(help="显示名")] = "",
    department: Annotated[str | None, typer.Option(help="所属部门代码（处置人员必填）")] = None,
    grid: Annotated[
        list[str] | None, typer.Option("--grid", help="负责的网格（或社区、街道）代码，可多次指定")
    ] = None,
) -> None:
    """新建用户。"""
    from civicgrid.db import unit_of_work
    from civicgrid.org.service import create_user

    try:
        with unit_of_work() as session:
            user = create_user(
                session,
                username,
                password,
                role,
                display_name=name,
                department_code=department,
                grid_codes=grid or [],
            )
            uid = user.id
    except AppError as exc:
        raise _fail(exc.message) from None
    console.print(f"已创建用户 {username}（编号 {uid}），角色：{'、'.join(role)}")


@user_app.command("totp")
def user_totp(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """为员工账号启用动态口令（TOTP）第二因素：打印供手机令牌 App 扫描的地址（只显示一次）。"""
    from civicgrid.db import unit_of_work
    from civicgrid.org.service import enable_totp

    try:
        with unit_of_work() as session:
            uri = enable_totp(session, username)
    except AppError as exc:
        raise _fail(exc.message) from None
    console.print(f"已为 {username} 启用动态口令。请用令牌 App 添加（只显示这一次）：")
    typer.echo(uri)


@app.command("import-grids")
def import_grids(
    file: Annotated[
        Path,
        typer.Argument(
            help="网格 GeoJSON 文件（FeatureCollection，properties.code 为网格代码）",
            exists=True,
            dir_okay=False,
        ),
    ],
    commit: Annotated[bool, typer.Option("--commit", help="确认写入；不加时只预览（dry run）")] = False,
    name: Annotated[str, typer.Option(help="网格版本名称")] = "",
    district_name: Annotated[str, typer.Option(help="区名")] = "",
) -> None:
    """导入单元网格（默认只预览，加 --commit 才写入并启用为新版本）。"""
    from civicgrid.db import unit_of_work
    from civicgrid.geo.grid_import import parse_grid_geojson
    from civicgrid.geo.store import store_import
    from civicgrid.settings import get_settings

    digits = get_settings().grid_digits
    result = parse_grid_geojson(file.read_bytes(), grid_digits=digits)
    summary = result.summary()
    table = Table(title=f"导入预览：{file.name}")
    for col in ("街道代码", "街道", "网格数", "面积（平方米）"):
        table.add_column(col)
    for s in summary.streets:
        table.add_row(s.code, s.name or "", str(s.grids), f"{s.area_m2:,.0f}")
    console.print(table)
    console.print(
        f"要素 {summary.features} 个，有效网格 {summary.grids} 个，"
        f"社区 {len(summary.communities)} 个，错误 {summary.errors} 个。"
    )
    for e in result.errors[:50]:
        err.print(f"  第 {e.index} 个要素 {e.code or ''}：{e.message}")
    if result.errors:
        raise _fail("文件有错误，未写入。请修正后重试。", 2)
    if not commit:
        console.print("这是预览（dry run），没有写入。确认无误后加 --commit 写入。")
        return
    with unit_of_work() as session:
        gen = store_import(
            session, result.grids, name=name or file.stem, grid_digits=digits, district_name=district_name
        )
        gid = gen.id
    console.print(f"已写入并启用网格版本 {gid}：{summary.grids} 个网格。")


@app.command("export-grids")
def export_grids(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件；不填则输出到标准输出")] = None,
    level: Annotated[str, typer.Option(help="grid / community / street / district")] = "grid",
) -> None:
    """导出当前启用的网格版本为 GeoJSON。"""
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.geo.service import active_generation
    from civicgrid.models import Area

    with unit_of_work(write=False) as session:
        try:
            gen = active_generation(session)
        except AppError as exc:
            raise _fail(exc.message) from None
        rows = session.scalars(
            select(Area).where(Area.generation_id == gen.id, Area.level == level).order_by(Area.code)
        )
        features = []
        for a in rows:
            props = {
                "code": a.code,
                "name": a.name,
                "level": a.level,
                "parent_code": a.parent_code,
                "area_m2": round(a.area_m2, 1),
            }
            if level == "grid":
                props |= {"community_code": a.code[:12], "street_code": a.code[:9]}
            features.append({"type": "Feature", "geometry": a.geometry, "properties": props})
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"已导出 {len(features)} 个要素到 {out}")
    else:
        typer.echo(text)


# Each domain adds its own commands: a module with ``register(app)``.
DOMAIN_COMMANDS = (
    "civicgrid.geo.cli",
    "civicgrid.sla.cli",
    "civicgrid.classify.cli",
    "civicgrid.open311.cli",
    "civicgrid.evaluation.cli",
    "civicgrid.security.cli",
    "civicgrid.analytics.cli",
    "civicgrid.ops.cli",
    "civicgrid.demo.cli",
)
for _module in DOMAIN_COMMANDS:
    importlib.import_module(_module).register(app)


def main() -> None:  # pragma: no cover
    app()
