"""``civicgrid locate``: a point to its unit grid, community and street."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from civicgrid.console import console, err, fail
from civicgrid.errors import AppError


def locate(
    lng: Annotated[float, typer.Argument(help="经度")],
    lat: Annotated[float, typer.Argument(help="纬度")],
    crs: Annotated[str, typer.Option(help="坐标系：wgs84、gcj02（高德/腾讯）、bd09（百度）")] = "wgs84",
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """把坐标定位到单元网格、社区和街道。"""
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.geo.service import locate as do_locate
    from civicgrid.models import Area

    try:
        with unit_of_work(write=False) as session:
            loc = do_locate(session, lng, lat, crs)
            names = dict(
                session.execute(
                    select(Area.code, Area.name).where(
                        Area.generation_id == loc.generation_id,
                        Area.code.in_([loc.grid_code, loc.community_code, loc.street_code]),
                    )
                ).all()
            )
    except AppError as exc:
        if json_out:
            typer.echo(
                json.dumps({"error": exc.code, "message": exc.message, **exc.extra}, ensure_ascii=False)
            )
        else:
            err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(2) from None
    out = {
        "lng": round(loc.lng, 7),
        "lat": round(loc.lat, 7),
        "grid_code": loc.grid_code,
        "community_code": loc.community_code,
        "community_name": names.get(loc.community_code),
        "street_code": loc.street_code,
        "street_name": names.get(loc.street_code),
        "generation_id": loc.generation_id,
    }
    if json_out:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        console.print(
            f"网格 {loc.grid_code}　{out['street_name']} {out['community_name']}　"
            f"（WGS84 {out['lng']}, {out['lat']}）"
        )


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
    from rich.table import Table

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
        raise fail("文件有错误，未写入。请修正后重试。", 2)
    if not commit:
        console.print("这是预览（dry run），没有写入。确认无误后加 --commit 写入。")
        return
    with unit_of_work() as session:
        gen = store_import(
            session, result.grids, name=name or file.stem, grid_digits=digits, district_name=district_name
        )
        gid = gen.id
    console.print(f"已写入并启用网格版本 {gid}：{summary.grids} 个网格。")


def export_grids(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件；不填则输出到标准输出")] = None,
    level: Annotated[str, typer.Option(help="grid / community / street / district")] = "grid",
) -> None:
    """导出当前启用的网格版本为 GeoJSON。"""
    from civicgrid.db import unit_of_work
    from civicgrid.geo.service import areas_geojson

    with unit_of_work(write=False) as session:
        try:
            collection = areas_geojson(session, level)
        except AppError as exc:
            raise fail(exc.message) from None
    features = collection["features"]
    text = json.dumps(collection, ensure_ascii=False)
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"已导出 {len(features)} 个要素到 {out}")
    else:
        typer.echo(text)


def register(app: typer.Typer) -> None:
    app.command("locate")(locate)
    app.command("import-grids")(import_grids)
    app.command("export-grids")(export_grids)
