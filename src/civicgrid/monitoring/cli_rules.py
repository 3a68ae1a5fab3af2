"""``civicgrid station rules``: the monitoring rule table (which exceedances open which cases)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from civicgrid.console import console


def register(app: typer.Typer) -> None:
    from civicgrid.monitoring.cli import station_app

    @station_app.command("rules")
    def rules_command(json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
        """列出监测超标规则：站点类型、指标、阈值、连续次数、开案类别（管理员在 API 中修改）。"""
        from civicgrid.db import unit_of_work
        from civicgrid.monitoring import rule_admin

        with unit_of_work(write=False) as session:
            rows = [rule_admin.present(r) for r in rule_admin.listing(session)]
        if json_out:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        for r in rows:
            threshold = "站点限值" if r["threshold"] is None else f"{r['threshold']:g}"
            state = "启用" if r["enabled"] else "停用"
            urgent = " 紧急" if r["urgent"] else ""
            console.print(
                f"{r['code']:<14} {r['station_kind']:<6} {r['measure_name']:<8} 阈值 {threshold:<8} "
                f"连续 {r['consecutive']} → {r['category_code']}{urgent}  {state}  {r['label']}"
            )
