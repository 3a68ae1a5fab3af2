"""``civicgrid station edit`` and ``civicgrid station import``: change a station, add many from a file.

Added to the ``station`` command group of ``monitoring/cli.py`` by ``register`` (the domain lists this module
after it). Only typer and the standard library are imported here; the database inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def station_edit(
    mn: Annotated[str, typer.Argument(help="站点 MN")],
    name: Annotated[str | None, typer.Option("--name", help="新的站点名称")] = None,
    lng: Annotated[float | None, typer.Option("--lng", help="新的经度（与 --lat 同时给出）")] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="新的纬度")] = None,
    password: Annotated[str | None, typer.Option("--password", help="新的访问密码 PW")] = None,
    target_class: Annotated[
        str | None, typer.Option("--target-class", help="地表水断面的目标水质类别，如 III")
    ] = None,
    lake: Annotated[
        bool | None, typer.Option("--lake/--river", help="湖库断面或河流断面（总磷标准不同）")
    ] = None,
    interval: Annotated[int | None, typer.Option("--interval", help="实时数据间隔（秒）")] = None,
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", help="污染源许可限值 编码=限值，可重复，如 --limit w01018=50（整体替换）"),
    ] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="启用或停用")] = None,
) -> None:
    """修改监测站点（改位置会重新定位网格）；未给出的项保持不变。"""
    from civicgrid.console import console, fail
    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.monitoring import stations

    changes: dict[str, Any] = {}
    for key, value in (
        ("name", name),
        ("lng", lng),
        ("lat", lat),
        ("password", password),
        ("target_class", target_class),
        ("lake", lake),
        ("interval_s", interval),
        ("active", active),
    ):
        if value is not None:
            changes[key] = value
    if limit is not None:
        limits: dict[str, float] = {}
        for item in limit:
            code, eq, raw = item.partition("=")
            try:
                limits[code.strip()] = float(raw)
            except ValueError:
                raise fail(f"许可限值应写成 编码=数值：{item}", code=2) from None
            if not eq:
                raise fail(f"许可限值应写成 编码=数值：{item}", code=2)
        changes["permit_limits"] = limits
    if not changes:
        raise fail("没有要修改的内容（见 civicgrid station edit --help）", code=2)
    try:
        with unit_of_work() as session:
            out = stations.present(stations.update(session, mn, changes))
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    state = "在用" if out["active"] else "已停用"
    console.print(f"已修改站点 {out['mn']}（{out['name']}），位于网格 {out['grid_code']}，{state}")


def station_import(
    file: Annotated[Path, typer.Argument(help="CSV（UTF-8 或 GBK）或 xlsx 文件，首行为表头")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查，不导入")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """从 CSV 或 xlsx 批量导入站点：全部无误才导入，有错时逐行列出（含行号），一个也不导入。

    表头：mn/站点编码、kind/类型、name/名称、lng/经度、lat/纬度，可选 password/密码、target_class/目标类别、
    lake/湖库、interval_s/数据间隔。退出码：0 成功，1 文件有错，2 用法错误。"""
    from civicgrid.console import console, fail
    from civicgrid.db import unit_of_work
    from civicgrid.monitoring import station_bulk
    from civicgrid.monitoring.station_import import parse

    if not file.is_file():
        raise fail(f"文件不存在：{file}", code=2)
    parsed = parse(file.read_bytes(), file.name)
    with unit_of_work() as session:
        outcome = station_bulk.check(session, parsed)
        if not outcome.errors and not dry_run:
            outcome = station_bulk.run(session, parsed)
    if json_out:
        typer.echo(json.dumps(outcome.as_json(), ensure_ascii=False))
    elif outcome.errors:
        console.print(f"[red]导入文件有 {len(outcome.errors)} 处错误，未导入任何站点：[/red]")
        for e in outcome.errors:
            console.print(f"  {e.text()}", markup=False)
    else:
        for r in outcome.rows:
            where = f"网格 {r['grid_code']}"
            console.print(f"  第 {r['row']} 行  {r['mn']}  {r['kind_label']}  {r['name']}  {where}")
        verb = "已导入" if outcome.written else "检查通过（未导入，去掉 --dry-run 即导入）"
        console.print(f"{verb}：{len(outcome.rows)} 个站点")
    if outcome.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from civicgrid.monitoring.cli import station_app

    station_app.command("edit")(station_edit)
    station_app.command("import")(station_import)
