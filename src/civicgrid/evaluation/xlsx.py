"""The monthly report and single evaluations as Excel workbooks (openpyxl): a summary sheet and one sheet per
unit,
bold filled headers, frozen panes, percentage and number formats. Text is always written as string cells
(``security.cells.put``), so a name can never become a formula."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from civicgrid.evaluation.catalog import COUNTS, INDICATOR_LABELS, RATIOS, STAGES
from civicgrid.evaluation.report import MonthlyReport, RankedRow, unit_columns
from civicgrid.evaluation.scores import VOLUME
from civicgrid.evaluation.service import Evaluation, EvaluationRow
from civicgrid.security.cells import put

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
PERCENT = "0.00%"
SCORE = "0.00"
MINUTES = "0.0"
SUMMARY_SHEET = "汇总"
_RATIO_KEYS = {r.key for r in RATIOS}


def _header(ws: Worksheet, row: int, titles: Sequence[str]) -> None:
    for col, title in enumerate(titles, start=1):
        cell = put(ws, row, col, title)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def apart_note(row: EvaluationRow, min_cases: int) -> str:
    """Why a unit has no rank: too few cases, or nothing to score."""
    if row.rank is not None:
        return ""
    if row.low_volume:
        return f"案件量不足，不参与排名（少于 {min_cases} 件）"
    return "无可评分指标，不参与排名"


def _unit_sheet(
    ws: Worksheet, unit: str, rows: Sequence[RankedRow], with_previous: bool, min_cases: int
) -> None:
    indicators, counts, stages = unit_columns(unit)
    titles = [
        "排名",
        "代码",
        "名称",
        f"案件量（{VOLUME.get(unit, VOLUME['department'])[0]}）",
        "综合得分",
        "等级",
    ]
    if with_previous:
        titles += ["上期得分", "得分变化", "上期排名", "排名变化"]
    titles += [INDICATOR_LABELS[k] for k in indicators] + [COUNTS[k] for k in counts]
    titles += [f"{STAGES[k][0]}（工作分钟）" for k in stages]
    titles.append("说明")
    _header(ws, 1, titles)
    ordered = [r for r in rows if r.row.rank is not None] + [r for r in rows if r.row.rank is None]
    for i, rr in enumerate(ordered, start=2):
        r = rr.row
        values: list[tuple[Any, str | None]] = [
            (r.rank, None),
            (r.key, None),
            (r.name, None),
            (r.volume, "0"),
            (r.score, SCORE),
            (r.grade, None),
        ]
        if with_previous:
            values += [
                (rr.previous_score, SCORE),
                (rr.score_delta, "+0.00;-0.00;0.00"),
                (rr.previous_rank, None),
                (rr.rank_delta, "+0;-0;0"),
            ]
        values += [(r.indicators.get(k), PERCENT if k in _RATIO_KEYS else MINUTES) for k in indicators]
        values += [(r.counts.get(k, 0), "0") for k in counts]
        values += [(r.stages.get(k), MINUTES) for k in stages]
        values.append((apart_note(r, min_cases) or None, None))
        for col, (value, fmt) in enumerate(values, start=1):
            cell = put(ws, i, col, value)
            if fmt and value is not None:
                cell.number_format = fmt
    ws.freeze_panes = "D2"
    _widths(ws, [6, 16, 24] + [11] * (len(titles) - 4) + [34])
    ws.row_dimensions[1].height = 32
    ws.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{max(1, len(rows) + 1)}"


def _summary(ws: Worksheet, report: MonthlyReport) -> None:
    tz = ZoneInfo(report.period.tz)
    put(ws, 1, 1, f"{report.period.label}城市网格化管理月度考核通报").font = TITLE_FONT
    put(
        ws,
        2,
        1,
        f"统计期间：{report.period.first_day:%Y-%m-%d} 至 {report.period.last_day:%Y-%m-%d}；"
        f"数据截至 {report.as_of.astimezone(tz):%Y-%m-%d %H:%M}",
    )
    line = 4
    _header(ws, line, ["全区指标", "数值"])
    d = report.district
    overview: list[tuple[str, Any, str]] = []
    if d is not None:
        overview = [
            ("立案数", d.counts["registered"], "0"),
            ("应结案数", d.counts["should_close"], "0"),
            ("结案数", d.counts["closed"], "0"),
            ("结案率", d.indicators["close_rate"], PERCENT),
            ("按期结案率", d.indicators["close_on_time_rate"], PERCENT),
            ("按期处置率", d.indicators["disposal_on_time_rate"], PERCENT),
            ("返工率", d.indicators["rework_rate"], PERCENT),
            ("满意率", d.indicators["satisfaction_rate"], PERCENT),
            ("平均处置时长（工作分钟）", d.indicators["avg_disposal_wmin"], MINUTES),
        ]
    for label, number, number_format in overview:
        line += 1
        put(ws, line, 1, label)
        cell = put(ws, line, 2, number)
        if number is not None:
            cell.number_format = number_format
    for unit in ("department", "street"):
        section = report.sections.get(unit)
        if section is None:
            continue
        for title, rows in (
            (f"{section.label}红榜（前 {report.top_n} 名）", section.top(report.top_n)),
            (f"{section.label}黑榜（后 {report.top_n} 名）", section.bottom(report.top_n)),
        ):
            line += 2
            put(ws, line, 1, title).font = Font(bold=True)
            line += 1
            _header(ws, line, ["排名", "名称", "案件量", "综合得分", "等级", "得分变化", "排名变化"])
            for rr in rows:
                line += 1
                for col, (value, fmt) in enumerate(
                    [
                        (rr.row.rank, None),
                        (rr.row.name, None),
                        (rr.row.volume, "0"),
                        (rr.row.score, SCORE),
                        (rr.row.grade, None),
                        (rr.score_delta, "+0.00;-0.00;0.00"),
                        (rr.rank_delta, "+0;-0;0"),
                    ],
                    start=1,
                ):
                    cell = put(ws, line, col, value)
                    if fmt and value is not None:
                        cell.number_format = fmt
    line += 2
    put(ws, line, 1, "反复发生的问题点位（同一网格同一类别）").font = Font(bold=True)
    line += 1
    _header(ws, line, ["网格代码", "网格", "类别代码", "类别", "次数", "首次", "最近"])
    for rec in report.recurring:
        line += 1
        for col, text in enumerate(
            [
                rec.grid_code,
                rec.grid_name,
                rec.category_code,
                rec.category_name,
                rec.count,
                rec.first.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                rec.last.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            ],
            start=1,
        ):
            put(ws, line, col, text)
    line += 2
    put(ws, line, 1, f"说明：案件量少于 {report.min_cases} 件的单位不参与排名，在各分表末尾单列。")
    ws.freeze_panes = "A4"
    _widths(ws, [28, 16, 12, 16, 10, 18, 18])


def monthly_workbook(report: MonthlyReport) -> bytes:
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    _summary(summary, report)
    for section in report.sections.values():
        _unit_sheet(wb.create_sheet(section.label), section.unit, section.rows, True, report.min_cases)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def evaluation_workbook(evaluation: Evaluation, sheet: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    rows = [RankedRow(r, None, None) for r in evaluation.rows]
    _unit_sheet(ws, evaluation.unit, rows, False, evaluation.min_cases)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
