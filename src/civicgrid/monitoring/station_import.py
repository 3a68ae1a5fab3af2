"""Reading a station list from CSV or xlsx (bulk import, issue 14 §1). Pure: bytes in, rows and errors out.

The first row names the columns, in English or Chinese (``HEADERS``); the order is free and unknown columns
are ignored. Row numbers are the spreadsheet's (the header is row 1). Every problem of every row is collected,
so a file is corrected in one pass; the caller writes nothing unless there is none (``station_bulk``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Column aliases (lower-cased, spaces removed) → field.
HEADERS: dict[str, str] = {
    "mn": "mn",
    "站点编码": "mn",
    "站点mn": "mn",
    "设备编码": "mn",
    "kind": "kind",
    "类型": "kind",
    "站点类型": "kind",
    "name": "name",
    "名称": "name",
    "站点名称": "name",
    "lng": "lng",
    "经度": "lng",
    "lat": "lat",
    "纬度": "lat",
    "password": "password",
    "pw": "password",
    "密码": "password",
    "访问密码": "password",
    "target_class": "target_class",
    "目标类别": "target_class",
    "目标水质类别": "target_class",
    "lake": "lake",
    "湖库": "lake",
    "interval_s": "interval_s",
    "间隔": "interval_s",
    "数据间隔": "interval_s",
    "实时数据间隔": "interval_s",
}
REQUIRED = ("mn", "kind", "name", "lng", "lat")
#: Kind words (English codes and Chinese names) → kind.
KIND_WORDS: dict[str, str] = {
    "air": "air",
    "空气": "air",
    "空气质量": "air",
    "环境空气": "air",
    "water": "water",
    "水": "water",
    "地表水": "water",
    "水质": "water",
    "dust": "dust",
    "扬尘": "dust",
    "工地扬尘": "dust",
    "source": "source",
    "污染源": "source",
    "noise": "noise",
    "噪声": "noise",
    "声环境": "noise",
}
YES = frozenset({"1", "true", "yes", "y", "是", "湖库", "湖", "湖泊", "水库", "lake"})
NO = frozenset({"", "0", "false", "no", "n", "否", "河流", "河", "river"})
ROMAN = {
    "1": "I",
    "2": "II",
    "3": "III",
    "4": "IV",
    "5": "V",
    "Ⅰ": "I",
    "Ⅱ": "II",
    "Ⅲ": "III",
    "Ⅳ": "IV",
    "Ⅴ": "V",
}
MAX_ROWS = 5000
DEFAULT_PASSWORD = "123456"
DEFAULT_INTERVAL_S = 60


@dataclass(frozen=True)
class Row:
    """One station as read from the file (formats checked; the domain rules are checked by the caller)."""

    row: int
    mn: str
    kind: str
    name: str
    lng: float
    lat: float
    password: str = DEFAULT_PASSWORD
    target_class: str | None = None
    lake: bool = False
    interval_s: int = DEFAULT_INTERVAL_S


@dataclass(frozen=True)
class RowError:
    row: int  # 0: the file as a whole
    message: str

    def text(self) -> str:
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_key(name: str) -> str:
    return "".join(name.split()).lower().lstrip("\ufeff")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel saves Chinese CSV as GB 18030 (GBK) on Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("文件编码无法识别（请保存为 UTF-8 或 GBK 编码的 CSV）")


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise ValueError("无法读取 xlsx 文件（文件已损坏或不是 Excel 2007+ 格式）") from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def is_xlsx(data: bytes, filename: str = "") -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")


def table(data: bytes, filename: str = "") -> list[list[str]]:
    """The file's cells as text, row by row (CSV in UTF-8 or GBK, or the first sheet of an xlsx)."""
    return _xlsx_rows(data) if is_xlsx(data, filename) else _csv_rows(data)


def _number(raw: str, label: str, errors: list[str]) -> float:
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{label}应为数字（收到「{raw}」）" if raw else f"缺少{label}")
        return 0.0
    if value != value or value in (float("inf"), float("-inf")):
        errors.append(f"{label}应为有限的数字")
    return value


def _row(number: int, cells: dict[str, str]) -> tuple[Row | None, list[str]]:
    errors: list[str] = []
    mn = cells.get("mn", "")
    if not mn:
        errors.append("缺少站点编码 MN")
    kind_word = cells.get("kind", "")
    kind = KIND_WORDS.get(kind_word.lower())
    if kind is None:
        errors.append(
            f"站点类型「{kind_word}」无法识别"
            "（可写 air/空气、water/地表水、dust/扬尘、source/污染源、noise/噪声）"
            if kind_word
            else "缺少站点类型"
        )
    name = cells.get("name", "")
    if not name:
        errors.append("缺少站点名称")
    lng = _number(cells.get("lng", ""), "经度", errors)
    lat = _number(cells.get("lat", ""), "纬度", errors)
    target = cells.get("target_class", "").upper().removesuffix("类")
    target = ROMAN.get(target, target) or ""
    lake_word = cells.get("lake", "").lower()
    if lake_word not in YES and lake_word not in NO:
        errors.append(f"湖库一栏应填 是/否（收到「{cells.get('lake')}」）")
    interval_raw = cells.get("interval_s", "")
    interval = DEFAULT_INTERVAL_S
    if interval_raw:
        try:
            interval = int(float(interval_raw))
        except ValueError:
            errors.append(f"数据间隔应为秒数（收到「{interval_raw}」）")
    if errors or kind is None:
        return None, errors
    row = Row(
        row=number,
        mn=mn,
        kind=kind,
        name=name,
        lng=lng,
        lat=lat,
        password=cells.get("password") or DEFAULT_PASSWORD,
        target_class=target or None,
        lake=lake_word in YES,
        interval_s=interval,
    )
    return row, []


def parse_table(cells: Sequence[Sequence[str]]) -> Parsed:
    """Rows of text (the first one the header) → stations and every error, with its row number."""
    out = Parsed()
    body = [(i + 1, r) for i, r in enumerate(cells)]
    while body and not any(body[0][1]):
        body.pop(0)  # blank lines above the header
    if not body:
        out.errors.append(RowError(0, "文件是空的"))
        return out
    header_no, header = body[0]
    columns: dict[int, str] = {}
    for i, name in enumerate(header):
        key = HEADERS.get(_header_key(name))
        if key and key not in columns.values():
            columns[i] = key
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        out.errors.append(
            RowError(
                header_no,
                "缺少必填列：" + "、".join(missing) + "（表头可用 MN/站点编码、类型、名称、经度、纬度）",
            )
        )
        return out
    seen: dict[str, int] = {}
    data = [(n, r) for n, r in body[1:] if any(c.strip() for c in r)]
    if len(data) > MAX_ROWS:
        out.errors.append(RowError(0, f"一次最多导入 {MAX_ROWS} 个站点（文件中有 {len(data)} 行）"))
        return out
    for number, raw in data:
        cells_of = {key: (raw[i].strip() if i < len(raw) else "") for i, key in columns.items()}
        row, errors = _row(number, cells_of)
        mn = cells_of.get("mn", "")
        if mn and mn in seen:
            errors.append(f"站点编码 {mn} 与第 {seen[mn]} 行重复")
        elif mn:
            seen[mn] = number
        out.errors.extend(RowError(number, e) for e in errors)
        if row is not None and not errors:
            out.rows.append(row)
    if not data:
        out.errors.append(RowError(0, "文件中没有站点（只有表头）"))
    return out


def parse(data: bytes, filename: str = "") -> Parsed:
    """A CSV or xlsx file's bytes → stations and every error."""
    try:
        cells = table(data, filename)
    except ValueError as exc:
        return Parsed(errors=[RowError(0, str(exc))])
    return parse_table(cells)


def error_texts(errors: Iterable[RowError]) -> list[str]:
    return [e.text() for e in errors]
