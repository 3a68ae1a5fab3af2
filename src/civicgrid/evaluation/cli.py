"""Command-line commands of this domain (registered by civicgrid.cli): ``evaluate`` and ``report monthly``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from civicgrid.console import err
from civicgrid.errors import AppError
from civicgrid.evaluation.catalog import INDICATOR_LABELS, RATIOS, UNIT_LABELS, UNITS
from civicgrid.evaluation.period import HELP

if TYPE_CHECKING:
    from civicgrid.evaluation.period import Period
    from civicgrid.evaluation.service import Evaluation

report_app = typer.Typer(help="考核通报", no_args_is_help=True)
_RATIO_KEYS = {r.key for r in RATIOS}
TABLE_INDICATORS = {
    "department": (
        "close_rate",
        "close_on_time_rate",
        "disposal_on_time_rate",
        "rework_rate",
        "satisfaction_rate",
        "avg_disposal_wmin",
    ),
    "inspector": ("effective_report_rate", "missed_rate", "verify_on_time_rate", "check_on_time_rate"),
    "operator": ("verify_send_on_time_rate", "check_send_on_time_rate"),
    "shift_lead": ("register_on_time_rate", "register_accuracy_rate", "lead_close_on_time_rate"),
    "dispatcher": ("dispatch_on_time_rate", "dispatch_accuracy_rate"),
}
AREA_TABLE = (
    "close_rate",
    "close_on_time_rate",
    "public_report_rate",
    "disposal_on_time_rate",
    "avg_disposal_wmin",
)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]错误：[/red]{message}")
    return typer.Exit(2)


def _as_of(text: str | None) -> datetime | None:
    if not text:
        return None
    from zoneinfo import ZoneInfo

    from civicgrid.settings import get_settings

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"无法识别的截止时刻：{text}（如 2026-11-01T00:00）") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(get_settings().timezone))


def _fmt(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.2f}%" if key in _RATIO_KEYS else f"{value:.1f}"


def evaluate_cmd(
    period: Annotated[str, typer.Option("--period", help=HELP)],
    unit: Annotated[
        str,
        typer.Option(
            "--unit", help="department street community grid inspector operator shift_lead dispatcher"
        ),
    ] = "department",
    fmt: Annotated[str, typer.Option("--format", help="table（默认）、json 或 xlsx")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（xlsx 必填）")] = None,
    facts: Annotated[
        Path | None, typer.Option("--facts", help="事实表 Parquet 文件或目录（默认从数据库实时生成）")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="统计截止时刻（默认现在）")] = None,
) -> None:
    """综合评价：按部门、区域或人员计算各项指标、综合得分、等级与排名。"""
    from civicgrid.evaluation.period import parse_period
    from civicgrid.settings import get_settings

    if unit not in UNITS:
        raise _fail(f"未知的评价对象：{unit}，可选 {'、'.join(UNITS)}")
    if fmt not in ("table", "json", "xlsx"):
        raise _fail(f"未知的输出格式：{fmt}，可选 table、json、xlsx")
    if fmt == "xlsx" and out is None:
        raise _fail("xlsx 格式需要用 --out 指定输出文件")
    try:
        p = parse_period(period, get_settings().timezone)
        evaluation = _run(p, unit, facts, _as_of(as_of))
    except AppError as exc:
        raise _fail(exc.message) from None
    if fmt != "table":
        from civicgrid.security.exportlog import log_cli_export

        filters = {"period": p.key, "unit": unit, "as_of": as_of, "facts": str(facts) if facts else None}
        log_cli_export(what="evaluation", fmt=fmt, filters=filters, rows=len(evaluation.rows))
    if fmt == "json":
        text = json.dumps(evaluation.to_json(), ensure_ascii=False, indent=1)
        if out:
            out.write_text(text, encoding="utf-8")
        else:
            typer.echo(text)
        return
    if fmt == "xlsx":
        from civicgrid.evaluation.xlsx import evaluation_workbook

        assert out is not None
        out.write_bytes(evaluation_workbook(evaluation, UNIT_LABELS[unit]))
        err.print(f"已导出 {len(evaluation.rows)} 行到 {out}")
        return
    keys = TABLE_INDICATORS.get(unit, AREA_TABLE)
    from rich.table import Table

    table = Table(title=f"{p.label} {UNIT_LABELS[unit]}综合评价")
    for col in ("排名", "名称", "综合得分", "等级", *(INDICATOR_LABELS[k] for k in keys)):
        table.add_column(col, justify="left" if col == "名称" else "right")
    for r in evaluation.rows:
        table.add_row(
            str(r.rank or "—"),
            r.name,
            "—" if r.score is None else f"{r.score:.2f}",
            r.grade or "—",
            *(_fmt(k, r.indicators.get(k)) for k in keys),
        )
    from rich.console import Console

    console = Console()
    console.width = max(console.width, 140)
    console.print(table)
    if not evaluation.rows:
        console.print("本期没有可评价的数据。")


def _run(period: Period, unit: str, facts: Path | None, as_of: datetime | None) -> Evaluation:
    from civicgrid.db import unit_of_work
    from civicgrid.evaluation.live import evaluate_live

    with unit_of_work(write=False) as session:
        return evaluate_live(session, period, unit, as_of=as_of, parquet=facts)


@report_app.command("monthly")
def monthly_cmd(
    period: Annotated[str, typer.Option("--period", help=HELP)],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.xlsx（Excel）或 .html（可打印网页）")],
    facts: Annotated[
        Path | None, typer.Option("--facts", help="事实表 Parquet 文件或目录（默认从数据库实时生成）")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="统计截止时刻（默认现在）")] = None,
) -> None:
    """生成月度考核通报（红黑榜、环比变化、图表、反复发生的问题点位）。"""
    from civicgrid.db import unit_of_work
    from civicgrid.evaluation.live import monthly_live
    from civicgrid.evaluation.period import parse_period
    from civicgrid.settings import get_settings

    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".html", ".htm"):
        raise _fail("输出文件的扩展名应为 .xlsx 或 .html")
    try:
        p = parse_period(period, get_settings().timezone)
        with unit_of_work(write=False) as session:
            report = monthly_live(session, p, as_of=_as_of(as_of), parquet=facts)
    except AppError as exc:
        raise _fail(exc.message) from None
    if suffix == ".xlsx":
        from civicgrid.evaluation.xlsx import monthly_workbook

        out.write_bytes(monthly_workbook(report))
    else:
        from civicgrid.evaluation.html import monthly_html

        out.write_text(monthly_html(report), encoding="utf-8")
    from civicgrid.security.exportlog import log_cli_export

    log_cli_export(
        what="monthly_report",
        fmt="xlsx" if suffix == ".xlsx" else "html",
        filters={"period": p.key, "as_of": as_of, "facts": str(facts) if facts else None},
        rows=sum(len(section.rows) for section in report.sections.values()),
    )
    err.print(f"已生成 {p.label}月度考核通报：{out}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``civicgrid`` command line."""
    app.command("evaluate")(evaluate_cmd)
    app.add_typer(report_app, name="report")
