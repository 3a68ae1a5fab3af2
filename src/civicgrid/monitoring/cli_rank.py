"""``civicgrid station rank``: the monthly ranking of stations or streets, as a table, JSON or Excel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from civicgrid.console import console, fail
from civicgrid.monitoring.cli import station_app


@station_app.command("rank")
def station_rank(
    month: Annotated[str, typer.Option("--month", help="月份 YYYY-MM")],
    kind: Annotated[
        str, typer.Option("--kind", help="air 空气（综合指数）或 water 地表水（断面达标率）")
    ] = "air",
    by: Annotated[str, typer.Option("--by", help="station 按站点（默认）或 street 按街道")] = "station",
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="另存为 Excel 文件")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """月度排名：空气按 HJ 663 综合指数（越小越好），地表水按断面达标率。"""
    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.monitoring import ranking

    try:
        ranking.check(month, kind, by)
        with unit_of_work(write=False) as session:
            rows = ranking.monthly(session, month, kind, by)  # type: ignore[arg-type]
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    if xlsx is not None:
        try:
            xlsx.write_bytes(ranking.to_xlsx(rows, kind))
        except OSError as exc:
            raise fail(f"无法写入 {xlsx}：{exc.strerror}", code=2) from None
    if json_out:
        out = [
            {"rank": r.rank, "key": r.key, "name": r.name, "values": r.values, "days": r.days} for r in rows
        ]
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    from rich.table import Table

    what = "空气质量" if kind == "air" else "地表水断面"
    table = Table(
        title=f"{ranking.month_label(month)}{what}排名（按{'站点' if by == 'station' else '街道'}）"
    )
    table.add_column("排名", justify="right")
    table.add_column("编码")
    table.add_column("名称")
    for _, label in ranking.columns(kind):
        table.add_column(label, justify="right")
    table.add_column("有效天数", justify="right")
    for r in rows:
        cells = [ranking.cell(k, r.values.get(k)) for k, _ in ranking.columns(kind)]
        table.add_row(
            str(r.rank) if r.rank else "不参与排名",
            r.key,
            r.name,
            *["—" if c is None else str(c) for c in cells],
            str(r.days),
        )
    if not rows:
        console.print(f"没有{what}站点")
        return
    console.print(table)
    if xlsx is not None:
        console.print(f"已保存到 {xlsx}")


def register(app: typer.Typer) -> None:
    """The command joins the ``station`` group of ``monitoring.cli`` (declared on import above)."""
