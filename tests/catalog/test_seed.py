from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from civicgrid.catalog.seed import (
    CATEGORY_COLUMNS,
    STREET_OFFICE,
    SeedDataError,
    load_seed_categories,
    load_seed_departments,
    parse_limit,
    shipped_categories,
)

HEADER = ",".join(CATEGORY_COLUMNS)
GOOD_ROW = (
    "C0101,C,01,公用设施,上水井盖,4h,true,GS,井盖破损,井盖修复,井盖|上水|井盖破了|井盖丢了,CJ/T 214-2007"
)


def test_department_table() -> None:
    departments = load_seed_departments()
    assert len(departments) == 16
    by_code = {d.code: d for d in departments}
    assert by_code["CGZF"].name == "城市管理综合行政执法局"
    assert by_code["CGZF"].short_name == "城管"
    assert by_code["STHJ"].short_name == "生态环境"
    assert by_code["GS"].name == "自来水公司"
    assert {d.kind for d in departments} == {"department"}
    assert all(d.parent_code is None for d in departments)


def test_counts_per_kind_match_spec() -> None:
    categories = load_seed_categories()
    assert len(categories) == 78
    assert Counter(c.kind for c in categories) == {"C": 29, "E": 49}
    assert Counter((c.kind, c.major_code) for c in categories) == {
        ("C", "01"): 14,
        ("C", "02"): 7,
        ("C", "03"): 3,
        ("C", "04"): 4,
        ("C", "05"): 1,
        ("E", "01"): 10,
        ("E", "02"): 3,
        ("E", "03"): 6,
        ("E", "04"): 5,
        ("E", "05"): 9,
        ("E", "06"): 8,  # E0606–E0608: the monitoring rules' categories (SPEC §10)
        ("E", "07"): 4,
        ("E", "08"): 4,
    }


@pytest.mark.parametrize(
    ("code", "name", "limit", "amount", "unit", "urgent"),
    [
        ("C0101", "上水井盖", "4h", 4, "h", True),
        ("C0111", "燃气井盖", "2h", 2, "h", True),
        ("C0120", "景观灯", "3wd", 3, "wd", False),
        ("C0214", "交通信号灯", "4h", 4, "h", True),
        ("C0501", "宣传栏", "3wd", 3, "wd", False),
        ("E0102", "暴露垃圾", "4wh", 4, "wh", False),
        ("E0403", "燃气管道破裂", "1h", 1, "h", True),
        ("E0202", "违章张贴悬挂广告牌匾", "3wd", 3, "wd", False),
        ("E0701", "停水及供水水质", "4h", 4, "h", True),
        ("E0899", "其他", "5wd", 5, "wd", False),
    ],
)
def test_spot_rows(code: str, name: str, limit: str, amount: int, unit: str, urgent: bool) -> None:
    cat = {c.code: c for c in load_seed_categories()}[code]
    assert (cat.name, cat.limit, cat.limit_amount, cat.limit_unit, cat.urgent) == (
        name,
        limit,
        amount,
        unit,
        urgent,
    )


def test_major_names_and_sources() -> None:
    majors = {(c.kind, c.major_code): c.major_name for c in load_seed_categories()}
    assert majors[("C", "05")] == "房屋土地"
    assert majors[("E", "04")] == "突发事件"
    assert majors[("E", "08")] == "社会治理"
    sources = Counter(c.source for c in load_seed_categories())
    assert sources == {"CJ/T 214-2007": 29, "city-list": 33, "civicgrid": 16}


def test_every_department_code_valid() -> None:
    dept_codes = {d.code for d in load_seed_departments()}
    categories = load_seed_categories()
    for cat in categories:
        assert cat.department_code == STREET_OFFICE or cat.department_code in dept_codes, cat.code
    street = sorted(c.code for c in categories if c.routes_to_street)
    assert street == ["C0501", "E0502", "E0704", "E0801", "E0803", "E0899"]


def test_rows_are_complete() -> None:
    for cat in load_seed_categories():
        assert 4 <= len(cat.keywords) <= 8, cat.code
        assert cat.register_condition and cat.close_condition, cat.code
        assert cat.urgent == (cat.limit_unit == "h"), cat.code
    urgent = sorted(c.code for c in load_seed_categories() if c.urgent)
    assert urgent == [
        "C0101",
        "C0102",
        "C0103",
        "C0105",
        "C0107",
        "C0111",
        "C0114",
        "C0214",
        "E0401",
        "E0402",
        "E0403",
        "E0701",
        "E0702",
    ]


def test_shipped_categories_cached() -> None:
    assert shipped_categories() is shipped_categories()
    assert shipped_categories()[0].code == "C0101"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4h", (4, "h")), ("2wh", (2, "wh")), ("10wd", (10, "wd"))],
)
def test_parse_limit(text: str, expected: tuple[int, str]) -> None:
    assert parse_limit(text) == expected


@pytest.mark.parametrize("text", ["4d", "0h", "wh", "h4", "1.5wd"])
def test_parse_limit_rejects(text: str) -> None:
    with pytest.raises(SeedDataError, match="时限格式无效"):
        parse_limit(text)


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "categories.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_custom_file_ok(tmp_path: Path) -> None:
    [cat] = load_seed_categories(_write(tmp_path, GOOD_ROW))
    assert cat.keywords == ("井盖", "上水", "井盖破了", "井盖丢了")
    assert cat.minor_code == "01"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (GOOD_ROW.replace("C0101,C", "X0101,C"), "类别编码 'X0101' 无效"),
        (GOOD_ROW.replace(",GS,", ",NOPE,"), "默认处置部门 NOPE 不存在"),
        (GOOD_ROW.replace(",4h,true,", ",4d,true,"), "时限格式无效"),
        (GOOD_ROW.replace(",4h,true,", ",4wh,true,"), "紧急标志与时限单位不一致"),
        (GOOD_ROW.replace("CJ/T 214-2007", "wiki"), "来源 'wiki' 无效"),
    ],
)
def test_invalid_rows_rejected(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(SeedDataError, match=message):
        load_seed_categories(_write(tmp_path, row))


def test_duplicate_code_rejected(tmp_path: Path) -> None:
    with pytest.raises(SeedDataError, match="类别编码重复：C0101"):
        load_seed_categories(_write(tmp_path, GOOD_ROW, GOOD_ROW))
