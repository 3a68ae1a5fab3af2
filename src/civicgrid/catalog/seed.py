"""The shipped seed tables: departments and the category catalogue (SPEC §5).

Pure module: reads the CSV files packaged in ``civicgrid.data`` and validates them.
It imports no database and no web framework; the seeding command turns these rows into ORM objects.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, cast, get_args

LimitUnit = Literal["h", "wh", "wd"]
LIMIT_UNITS: tuple[str, ...] = get_args(LimitUnit)  # a category's disposal limit: hours, working hours, days
CategoryKind = Literal["C", "E"]
SeedSource = Literal["CJ/T 214-2007", "city-list", "civicgrid"]

#: Department code meaning "the street office of the street where the case lies".
STREET_OFFICE = "@street"

DATA_PACKAGE = "civicgrid.data"
DEPARTMENTS_FILE = "departments.csv"
CATEGORIES_FILE = "categories.csv"

CATEGORY_CODE_RE = re.compile(r"^[CE]\d{4}$")
LIMIT_RE = re.compile(r"^(\d+)(h|wh|wd)$")
KEYWORD_SEPARATOR = "|"

DEPARTMENT_COLUMNS = ("code", "name", "short_name", "parent_code", "kind")
CATEGORY_COLUMNS = (
    "code",
    "kind",
    "major_code",
    "major_name",
    "name",
    "limit",
    "urgent",
    "department_code",
    "register_condition",
    "close_condition",
    "keywords",
    "source",
)


class SeedDataError(ValueError):
    """A seed file is malformed; the message is in Chinese and names the file and row."""


@dataclass(frozen=True, slots=True)
class SeedDepartment:
    code: str
    name: str
    short_name: str
    parent_code: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class SeedCategory:
    code: str
    kind: CategoryKind
    major_code: str
    major_name: str
    name: str
    limit: str
    limit_amount: int
    limit_unit: LimitUnit
    urgent: bool
    department_code: str
    register_condition: str
    close_condition: str
    keywords: tuple[str, ...]
    source: SeedSource

    @property
    def minor_code(self) -> str:
        return self.code[3:5]

    @property
    def routes_to_street(self) -> bool:
        return self.department_code == STREET_OFFICE


def parse_limit(text: str) -> tuple[int, LimitUnit]:
    """Parse a disposal limit such as ``4h``, ``4wh`` or ``1wd`` into (amount, unit)."""
    match = LIMIT_RE.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise SeedDataError(f"时限格式无效：{text!r}（应为正整数加单位 h、wh 或 wd，例如 4h、2wh、1wd）")
    return int(match.group(1)), cast(LimitUnit, match.group(2))


def _read_rows(path: Path | None, filename: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if path is None:
        text = resources.files(DATA_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
        label = filename
    else:
        text = Path(path).read_text(encoding="utf-8")
        label = str(path)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = tuple(reader.fieldnames or ())
    if header != columns:
        raise SeedDataError(f"{label} 表头不符：应为 {','.join(columns)}，实为 {','.join(header)}")
    rows: list[dict[str, str]] = []
    for line_no, row in enumerate(reader, start=2):
        if None in row or any(value is None for value in row.values()):
            raise SeedDataError(f"{label} 第 {line_no} 行列数不符：应为 {len(columns)} 列")
        rows.append({key: value.strip() for key, value in row.items()})
    return rows


def _require(value: str, field: str, where: str) -> str:
    if not value:
        raise SeedDataError(f"{where}：字段 {field} 不能为空")
    return value


def _check_unique(codes: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise SeedDataError(f"{what}编码重复：{code}")
        seen.add(code)


def _parse_bool(text: str, where: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise SeedDataError(f"{where}：urgent 应为 true 或 false，实为 {text!r}")


def load_seed_departments(path: Path | None = None) -> list[SeedDepartment]:
    """Read and validate the department seed table (the shipped one when ``path`` is None)."""
    departments: list[SeedDepartment] = []
    for line_no, row in enumerate(_read_rows(path, DEPARTMENTS_FILE, DEPARTMENT_COLUMNS), start=2):
        where = f"部门表第 {line_no} 行"
        departments.append(
            SeedDepartment(
                code=_require(row["code"], "code", where),
                name=_require(row["name"], "name", where),
                short_name=_require(row["short_name"], "short_name", where),
                parent_code=row["parent_code"] or None,
                kind=_require(row["kind"], "kind", where),
            )
        )
    _check_unique((d.code for d in departments), "部门")
    codes = {d.code for d in departments}
    for dept in departments:
        if dept.parent_code is not None and dept.parent_code not in codes:
            raise SeedDataError(f"部门 {dept.code} 的上级部门 {dept.parent_code} 不存在")
    return departments


def _parse_category(row: Mapping[str, str], where: str, department_codes: set[str]) -> SeedCategory:
    code = _require(row["code"], "code", where)
    if not CATEGORY_CODE_RE.match(code):
        raise SeedDataError(f"{where}：类别编码 {code!r} 无效（应为 C 或 E 加 4 位数字）")
    kind = row["kind"]
    if kind != code[0]:
        raise SeedDataError(f"{where}：类别 {code} 的 kind 应为 {code[0]}，实为 {kind!r}")
    major_code = row["major_code"]
    if major_code != code[1:3]:
        raise SeedDataError(f"{where}：类别 {code} 的大类编码应为 {code[1:3]}，实为 {major_code!r}")
    limit = _require(row["limit"], "limit", where)
    try:
        amount, unit = parse_limit(limit)
    except SeedDataError as exc:
        raise SeedDataError(f"{where}：{exc}") from None
    urgent = _parse_bool(row["urgent"], where)
    if urgent != (unit == "h"):
        raise SeedDataError(f"{where}：类别 {code} 的紧急标志与时限单位不一致（自然小时时限为紧急）")
    department = _require(row["department_code"], "department_code", where)
    if department != STREET_OFFICE and department not in department_codes:
        raise SeedDataError(f"{where}：类别 {code} 的默认处置部门 {department} 不存在")
    keywords = tuple(k.strip() for k in row["keywords"].split(KEYWORD_SEPARATOR) if k.strip())
    if not keywords:
        raise SeedDataError(f"{where}：类别 {code} 缺少关键词")
    source = row["source"]
    if source not in get_args(SeedSource):
        raise SeedDataError(f"{where}：类别 {code} 的来源 {source!r} 无效")
    return SeedCategory(
        code=code,
        kind=cast(CategoryKind, code[0]),
        major_code=major_code,
        major_name=_require(row["major_name"], "major_name", where),
        name=_require(row["name"], "name", where),
        limit=limit,
        limit_amount=amount,
        limit_unit=unit,
        urgent=urgent,
        department_code=department,
        register_condition=_require(row["register_condition"], "register_condition", where),
        close_condition=_require(row["close_condition"], "close_condition", where),
        keywords=keywords,
        source=cast(SeedSource, source),
    )


def load_seed_categories(
    path: Path | None = None, departments: Iterable[SeedDepartment] | None = None
) -> list[SeedCategory]:
    """Read and validate the category seed table (the shipped one when ``path`` is None).

    Department codes are checked against ``departments`` (default: the shipped department table).
    """
    depts = list(departments) if departments is not None else load_seed_departments()
    department_codes = {d.code for d in depts}
    rows = _read_rows(path, CATEGORIES_FILE, CATEGORY_COLUMNS)
    categories = [
        _parse_category(row, f"类别表第 {line_no} 行", department_codes)
        for line_no, row in enumerate(rows, start=2)
    ]
    _check_unique((c.code for c in categories), "类别")
    major_names: dict[tuple[str, str], str] = {}
    for cat in categories:
        key = (cat.kind, cat.major_code)
        known = major_names.setdefault(key, cat.major_name)
        if known != cat.major_name:
            raise SeedDataError(f"大类 {cat.kind}{cat.major_code} 名称不一致：{known} 与 {cat.major_name}")
    return categories


@cache
def shipped_categories() -> tuple[SeedCategory, ...]:
    """The shipped category table, loaded once (cached loader)."""
    return tuple(load_seed_categories())


@cache
def shipped_departments() -> tuple[SeedDepartment, ...]:
    """The shipped department table, loaded once (cached loader)."""
    return tuple(load_seed_departments())
