"""``civicgrid warehouse refresh`` and ``civicgrid export cases|hotspots``."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from civicgrid.console import TIME_HELP, console, err, local, moment
from civicgrid.console import progress as _progress

warehouse_app = typer.Typer(help="统计数仓（按月 Parquet 分区）", no_args_is_help=True)
export_app = typer.Typer(help="导出案卷与热点", no_args_is_help=True)


@warehouse_app.command("refresh")
def refresh(full: Annotated[bool, typer.Option("--full", help="重建全部月份分区")] = False) -> None:
    """把数据库中有更新的月份重新写入数仓分区（增量）。"""
    from civicgrid.analytics.settings import get_analytics_settings
    from civicgrid.analytics.warehouse import refresh as do_refresh
    from civicgrid.db import unit_of_work
    from civicgrid.replica import read_engine

    root = get_analytics_settings().root
    start = time.perf_counter()
    # The replica when one is set and fresh enough: the refresh reads every changed month.
    with unit_of_work(read_engine(), write=False) as session, _progress() as prog:
        task = prog.add_task("刷新数仓月份分区", total=None)
        result = do_refresh(
            session, root, full=full, progress=lambda d, t: prog.update(task, completed=d, total=t)
        )
    months = "、".join(result.months) if result.months else "无"
    console.print(
        f"已刷新 {len(result.months)} 个月份（{months}），共 {result.rows} 行，"
        f"用时 {time.perf_counter() - start:.1f} 秒。"
    )


@export_app.command("cases")
def export_cases(
    format: Annotated[str, typer.Option("--format", help="csv / xlsx / parquet")] = "csv",
    out: Annotated[Path, typer.Option("--out", "-o", help="输出文件")] = Path("cases.csv"),
    street: Annotated[str | None, typer.Option(help="街道代码")] = None,
    category: Annotated[str | None, typer.Option(help="类别代码")] = None,
    department: Annotated[str | None, typer.Option(help="部门代码")] = None,
    received_from: Annotated[
        datetime | None, typer.Option(parser=moment, metavar="TIME", help=f"上报时间起（含）：{TIME_HELP}")
    ] = None,
    received_to: Annotated[
        datetime | None, typer.Option(parser=moment, metavar="TIME", help=f"上报时间止（不含）：{TIME_HELP}")
    ] = None,
) -> None:
    """导出案卷（全区范围，系统身份）。"""
    from civicgrid.analytics import exports
    from civicgrid.analytics.settings import get_analytics_settings
    from civicgrid.cases.repository import CaseFilter
    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.org.roles import SYSTEM
    from civicgrid.security.exportlog import log_cli_export
    from civicgrid.settings import get_settings

    tz = get_settings().timezone
    f = CaseFilter(
        street_code=street,
        category_code=category,
        department_code=department,
        received_from=local(received_from, tz),
        received_to=local(received_to, tz),
    )
    try:
        fmt = exports.check_format(format)
        with unit_of_work(write=False) as session:
            rows = exports.export_rows(session, SYSTEM, f)
        if fmt == "csv":
            with out.open("wb") as fh:
                for chunk in exports.csv_chunks(rows):
                    fh.write(chunk)
        elif fmt == "xlsx":
            out.write_bytes(exports.xlsx_bytes(rows, get_analytics_settings().xlsx_max_rows))
        else:
            out.write_bytes(exports.parquet_bytes(rows))
        log_cli_export(what="cases", fmt=fmt, filters=f, rows=len(rows))
    except AppError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(1) from None
    console.print(f"已导出 {len(rows)} 件案卷到 {out}")


@export_app.command("hotspots")
def export_hotspots(
    level: Annotated[str, typer.Option(help="h3 / grid")] = "h3",
    days: Annotated[int, typer.Option(help="统计最近多少天")] = 30,
    out: Annotated[Path, typer.Option("--out", "-o", help="输出 GeoJSON 文件")] = Path("hotspots.geojson"),
) -> None:
    """把热点（H3 六边形或单元网格）导出为 GeoJSON。"""
    from civicgrid.analytics import queries, service
    from civicgrid.db import unit_of_work
    from civicgrid.models import utcnow
    from civicgrid.security.exportlog import log_cli_export

    if level not in ("h3", "grid"):
        err.print("[red]错误：[/red]层级只能是 h3 或 grid")
        raise typer.Exit(2)
    with unit_of_work(write=False) as session:
        cur = service.request_cursor(session, with_grids=level == "h3")
        items = queries.hotspots(cur, level=level, now=utcnow(), days=days, top=5000)
        geometry = service.grid_geometry(session, [i["cell"] for i in items]) if level == "grid" else None
    out.write_text(
        json.dumps(queries.hotspots_geojson(items, level=level, geometry=geometry), ensure_ascii=False),
        encoding="utf-8",
    )
    log_cli_export(what="hotspots", fmt="geojson", filters={"level": level, "days": days}, rows=len(items))
    console.print(f"已导出 {len(items)} 个热点到 {out}")


def register(app: typer.Typer) -> None:
    """Add the analytics commands to the ``civicgrid`` command line."""
    app.add_typer(warehouse_app, name="warehouse")
    app.add_typer(export_app, name="export")
