"""``civicgrid locate``: a point to its unit grid, community and street."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

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
            Console(stderr=True).print(f"[red]错误：[/red]{exc.message}")
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
        Console().print(
            f"网格 {loc.grid_code}　{out['street_name']} {out['community_name']}　"
            f"（WGS84 {out['lng']}, {out['lat']}）"
        )


def register(app: typer.Typer) -> None:
    app.command("locate")(locate)
