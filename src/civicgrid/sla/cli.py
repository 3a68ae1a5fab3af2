"""``civicgrid deadline``: the due time of a category's limit from a start time, on the working clock."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from civicgrid.console import console, err


def deadline(
    category_code: Annotated[str, typer.Argument(help="类别代码，如 E0102；也可直接写时限，如 4wh、2wd")],
    start: Annotated[
        str, typer.Argument(help="开始时间（ISO 8601，如 2026-09-30T16:00；不带时区按北京时间）")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """计算处置期限（按法定工作日与工作时段）。"""
    from civicgrid.catalog.seed import shipped_categories
    from civicgrid.settings import get_settings
    from civicgrid.sla.clock import parse_limit
    from civicgrid.sla.deadlines import get_clock

    tz = ZoneInfo(get_settings().timezone)
    cats = {c.code: c for c in shipped_categories()}
    try:
        limit = parse_limit(
            cats[category_code.upper()].limit if category_code.upper() in cats else category_code
        )
        begin = datetime.fromisoformat(start)
    except ValueError as exc:
        err.print(f"[red]错误：[/red]{exc}（类别代码如 E0102，时间如 2026-09-30T16:00）")
        raise typer.Exit(2) from None
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=tz)
    clock = get_clock()
    due = clock.add(begin, limit).astimezone(tz)
    uncovered = sorted(y for y in {begin.year, due.year} if not clock.calendar.covered(y))
    code = category_code.upper() if category_code.upper() in cats else None
    out = {
        "category_code": code,
        "limit": str(limit),
        "limit_label": limit.label,
        "start": begin.astimezone(tz).isoformat(),
        "due": due.isoformat(),
        "calendar_uncovered_years": uncovered,
    }
    if uncovered:
        err.print(
            f"[yellow]警告：{'、'.join(map(str, uncovered))} 年的法定节假日数据尚未收录，"
            "按周一至周五推算，请补充调休表。[/yellow]"
        )
    if json_out:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        name = cats[code].name if code else ""
        console.print(
            f"{out['category_code'] or ''} {name} 时限 {limit.label}："
            f"自 {begin.astimezone(tz):%Y-%m-%d %H:%M} 起，期限 {due:%Y-%m-%d %H:%M}"
        )


def register(app: typer.Typer) -> None:
    app.command("deadline")(deadline)
