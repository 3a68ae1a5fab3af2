"""Case exports (CSV, Excel, Parquet) from the live database, always scoped by ``readable_cases(actor)``.

Rows are read once as plain tuples (no ORM objects), then CSV is encoded and streamed in chunks, Excel
is written in write-only mode up to a row cap, Parquet in one buffer. No personal data of reporters is
exported. Text that a spreadsheet could take for a formula is neutralised (``security.cells``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases.repository import CaseFilter, _apply, order_by
from civicgrid.cases.scope import readable_cases
from civicgrid.cases.states import CLOSE_TYPE_LABELS, STATE_LABELS
from civicgrid.errors import InvalidInput
from civicgrid.models import Case, Category, Department, utcnow
from civicgrid.org.roles import Principal
from civicgrid.security import cells
from civicgrid.settings import get_settings

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
# (column key, Chinese header)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "案卷号"),
    ("category_code", "类别代码"),
    ("category_name", "类别"),
    ("state", "状态"),
    ("source", "来源"),
    ("urgent", "紧急"),
    ("street_code", "街道代码"),
    ("community_code", "社区代码"),
    ("grid_code", "网格代码"),
    ("department_code", "处置部门代码"),
    ("department_name", "处置部门"),
    ("address", "地址"),
    ("description", "问题描述"),
    ("received_at", "上报时间"),
    ("registered_at", "立案时间"),
    ("dispatched_at", "派遣时间"),
    ("due_at", "处置期限"),
    ("feedback_at", "反馈时间"),
    ("closed_at", "结案时间"),
    ("close_type", "结案类型"),
    ("rework_count", "返工次数"),
    ("rating", "评价"),
)
_SELECT = (
    Case.number,
    Case.category_code,
    Category.name,
    Case.state,
    Case.source,
    Case.urgent,
    Case.street_code,
    Case.community_code,
    Case.grid_code,
    Department.code,
    Department.name,
    Case.address,
    Case.description,
    Case.received_at,
    Case.registered_at,
    Case.dispatched_at,
    Case.due_at,
    Case.feedback_at,
    Case.closed_at,
    Case.close_type,
    Case.rework_count,
    Case.rating,
)


def export_rows(
    session: Session,
    actor: Principal,
    f: CaseFilter,
    *,
    now: datetime | None = None,
    sort: str | None = None,
) -> list[tuple[Any, ...]]:
    """Matching cases the actor may read as display tuples in ``COLUMNS`` order: oldest first, or in a
    list's own order (``sort``, a key of ``cases.repository.SORTS``, as the list pages take it)."""
    ids = _apply(select(Case.id).where(readable_cases(actor)), f, now or utcnow())  # type: ignore[arg-type]
    order = order_by(sort) if sort else [Case.received_at, Case.id]
    q = (
        select(*_SELECT)
        .join(Category, Category.code == Case.category_code)
        .outerjoin(Department, Department.id == Case.department_id)
        .where(Case.id.in_(ids.scalar_subquery()))
        .order_by(*order)
    )
    zone = ZoneInfo(get_settings().timezone)
    out = []
    for r in session.execute(q):
        row = list(r)
        row[3] = STATE_LABELS.get(row[3], row[3])
        row[5] = "是" if row[5] else "否"
        row[19] = CLOSE_TYPE_LABELS.get(row[19], row[19]) if row[19] else None
        for i in (13, 14, 15, 16, 17, 18):
            if row[i] is not None:
                row[i] = row[i].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        out.append(tuple(row))
    return out


def csv_chunks(rows: Sequence[tuple[Any, ...]], chunk: int = 2000) -> Iterator[bytes]:
    """CSV with a UTF-8 BOM (so Excel reads the Chinese), encoded ``chunk`` rows at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([h for _, h in COLUMNS])
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    for start in range(0, len(rows), chunk):
        buf.seek(0)
        buf.truncate()
        writer.writerows(cells.csv_row(r) for r in rows[start : start + chunk])
        yield buf.getvalue().encode("utf-8")


def xlsx_bytes(rows: Sequence[tuple[Any, ...]], max_rows: int, *, title: str = "案卷") -> bytes:
    if len(rows) > max_rows:
        raise InvalidInput(
            f"共有 {len(rows)} 件案卷，超过 Excel 导出上限 {max_rows} 件。请缩小筛选范围（如按时间、街道），"
            "或改用 CSV、Parquet 格式导出。",
            rows=len(rows),
            max_rows=max_rows,
        )
    return table_xlsx(title, [h for _, h in COLUMNS], rows, widths=CASE_WIDTHS)


# Column widths (characters) of the case sheet, in ``COLUMNS`` order.
CASE_WIDTHS = (20, 9, 14, 9, 9, 6, 11, 14, 16, 11, 18, 28, 40, 19, 19, 19, 19, 19, 19, 10, 9, 6)


def table_xlsx(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    widths: Sequence[int] = (),
) -> bytes:
    """One sheet: a bold header row, frozen, with a filter; the rows as they are (text always as text,
    never a formula). Written in openpyxl's write-only mode, so memory stays flat for a long list."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(cells.xlsx_text(title)[:31] or "Sheet1")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    head = cells.write_only_row(ws, [str(h) for h in headers])  # text: all string cells
    for cell in head:
        cell.font = Font(bold=True)
    ws.append(head)
    for r in rows:
        ws.append(cells.write_only_row(ws, list(r)))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def parquet_bytes(rows: Sequence[tuple[Any, ...]]) -> bytes:
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
    table = pa.table(
        {key: pa.array(list(col), type=_type(key)) for (key, _), col in zip(COLUMNS, cols, strict=True)}
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def _type(key: str) -> pa.DataType:
    return pa.int32() if key in ("rework_count", "rating") else pa.string()


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"不支持的导出格式：{fmt}，可选 csv、xlsx、parquet")
    return fmt
