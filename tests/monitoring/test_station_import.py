"""Bulk import of stations from CSV and xlsx (issue 14 §1): English and Chinese headers, every bad row
reported with its row number and nothing written, through the parser, the API (multipart, admin)
and the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from tests.builders import auth, grid_point

from civicgrid.db import unit_of_work
from civicgrid.errors import InvalidInput
from civicgrid.models import Station
from civicgrid.monitoring import station_bulk, stations
from civicgrid.monitoring.station_import import parse, parse_table

BIN = Path(sys.executable).parent / "civicgrid"


def _xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _count(session: Session, prefix: str) -> int:
    return int(session.scalar(select(func.count()).where(Station.mn.startswith(prefix))) or 0)


# --- The parser alone (no database) -----------------------------------------------------------------


def test_english_and_chinese_headers_in_any_order() -> None:
    english = parse(
        b"mn,kind,name,lng,lat,password,target_class,lake,interval_s\nA1,water,W,120.6,31.3,99,III,1,300\n"
    )
    chinese = parse(
        "纬度,经度,名称,类型,站点编码,目标类别,湖库,密码,数据间隔,备注\n31.3,120.6,W,地表水,A1,Ⅲ类,是,99,300,随便\n".encode()
    )
    assert english.errors == [] and chinese.errors == []
    assert english.rows == chinese.rows
    (row,) = english.rows
    assert (row.row, row.mn, row.kind, row.target_class, row.lake, row.password, row.interval_s) == (
        2,
        "A1",
        "water",
        "III",
        True,
        "99",
        300,
    )
    gbk = parse("MN,类型,名称,经度,纬度\nB1,扬尘,工地一号,120.6,31.3\n".encode("gb18030"))
    assert gbk.errors == [] and gbk.rows[0].kind == "dust" and gbk.rows[0].password == "123456"


def test_every_bad_row_is_reported_with_its_row_number() -> None:
    got = parse_table(
        [
            ["MN", "类型", "名称", "经度", "纬度", "湖库"],
            ["OK1", "air", "好站", "120.6", "31.3", ""],
            ["", "火星", "", "东经", "31.3", "也许"],
            ["", "", "", "", "", ""],  # blank lines are skipped (row numbers stay the spreadsheet's)
            ["OK1", "air", "重复", "120.6", "31.3", ""],
        ]
    )
    texts = [e.text() for e in got.errors]
    assert texts == [
        "第 3 行：缺少站点编码 MN",
        "第 3 行：站点类型「火星」无法识别"
        "（可写 air/空气、water/地表水、dust/扬尘、source/污染源、noise/噪声）",
        "第 3 行：缺少站点名称",
        "第 3 行：经度应为数字（收到「东经」）",
        "第 3 行：湖库一栏应填 是/否（收到「也许」）",
        "第 5 行：站点编码 OK1 与第 2 行重复",
    ]
    assert [r.mn for r in got.rows] == ["OK1"]
    assert parse_table([["name", "lng"]]).errors[0].text().startswith("第 1 行：缺少必填列：mn、kind、lat")
    assert parse(b"").errors[0].text() == "文件是空的"
    assert parse(b"PK\x03\x04broken", "x.xlsx").errors[0].text().startswith("无法读取 xlsx 文件")


# --- Against the database (SQLite and PostgreSQL) ---------------------------------------------------


@pytest.mark.db
def test_a_good_xlsx_is_imported_and_located(session: Session) -> None:
    p, q = grid_point(session, 1), grid_point(session, 6)
    data = _xlsx(
        [
            ["站点编码", "类型", "名称", "经度", "纬度", "目标类别", "湖库", "数据间隔"],
            ["IMX001", "空气质量", "导入一号", p.lng, p.lat, None, None, 60],
            ["IMX002", "地表水", "导入二号", q.lng, q.lat, "II", "否", 3600],
        ]
    )
    outcome = station_bulk.run(session, parse(data, "stations.xlsx"))
    assert outcome.written and outcome.errors == []
    a, b = stations.get(session, "IMX001"), stations.get(session, "IMX002")
    assert (a.kind, a.grid_code, a.target_class) == ("air", p.grid_code, None)
    assert (b.kind, b.grid_code, b.target_class, b.lake, b.interval_s) == (
        "water",
        q.grid_code,
        "II",
        False,
        3600,
    )


@pytest.mark.db
def test_bad_rows_are_all_reported_and_nothing_is_written(session: Session) -> None:
    p = grid_point(session, 1)
    stations.add(session, stations.StationIn("IMB000", "air", "已有", p.lng, p.lat))
    csv = (
        "mn,kind,name,lng,lat,target_class\n"
        f"IMB001,air,好的,{p.lng},{p.lat},\n"
        f"IMB000,air,已存在,{p.lng},{p.lat},\n"
        "IMB002,air,北京,116.4,39.9,\n"
        f"IMB003,water,无目标,{p.lng},{p.lat},\n"
        f"bad mn!,air,坏编码,{p.lng},{p.lat},\n"
    )
    with pytest.raises(InvalidInput) as refused:
        station_bulk.run(session, parse(csv.encode()))
    rows = [e["row"] for e in refused.value.extra["errors"]]
    assert rows == [3, 4, 5, 6]
    assert (
        "未导入任何站点" in refused.value.message
        and "第 3 行：MN 为 IMB000 的站点已存在" in refused.value.message
    )
    messages = {e["row"]: e["message"] for e in refused.value.extra["errors"]}
    assert "须给出断面目标水质类别" in messages[5] and "MN 应为" in messages[6]
    assert _count(session, "IMB") == 1  # only the one that was there before; IMB001 is not written either
    dry = station_bulk.run(
        session,
        parse("\n".join(csv.splitlines()[:2]).encode()),  # the header and the good row
        dry_run=True,
    )
    assert dry.errors == [] and not dry.written and _count(session, "IMB") == 1


@pytest.mark.db
def test_the_import_api(client: TestClient, session: Session) -> None:
    p = grid_point(session, 3)
    admin = auth(session, "admin")
    good = f"站点编码,类型,名称,经度,纬度\nIMA001,噪声,噪声站,{p.lng},{p.lat}\n".encode()
    dry = client.post(
        "/api/v1/stations/import",
        params={"dry_run": "true"},
        files={"file": ("s.csv", good, "text/csv")},
        headers=admin,
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["written"] is False and dry.json()["stations"][0]["grid_code"] == p.grid_code
    assert _count(session, "IMA") == 0
    done = client.post("/api/v1/stations/import", files={"file": ("s.csv", good, "text/csv")}, headers=admin)
    assert done.status_code == 200 and done.json()["written"] is True and done.json()["count"] == 1
    assert stations.get(session, "IMA001").kind == "noise"
    bad = f"站点编码,类型,名称,经度,纬度\nIMA002,air,好的,{p.lng},{p.lat}\nIMA003,air,,{p.lng},{p.lat}"
    refused = client.post(
        "/api/v1/stations/import",
        files={
            "file": (
                "s.xlsx",
                _xlsx([r.split(",") for r in bad.splitlines()]),
                "application/octet-stream",
            )
        },
        headers=admin,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"row": 3, "message": "缺少站点名称"}]
    assert _count(session, "IMA") == 1
    operator = auth(session, "operator")
    assert (
        client.post(
            "/api/v1/stations/import", files={"file": ("s.csv", good, "text/csv")}, headers=operator
        ).status_code
        == 403
    )


@pytest.fixture
def cleanup(db: object) -> Iterator[None]:
    yield
    with unit_of_work() as s:
        s.execute(delete(Station).where(Station.mn.startswith("IMC")))


@pytest.mark.db
def test_the_import_command(cleanup: None, tmp_path: Path) -> None:
    with unit_of_work(write=False) as s:
        p = grid_point(s, 4)
    good = tmp_path / "stations.csv"
    good.write_text(f"MN,类型,名称,经度,纬度\nIMC001,空气,命令行站,{p.lng},{p.lat}\n", encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), "station", "import", *args], capture_output=True, text=True, timeout=120
        )

    dry = run(str(good), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert json.loads(dry.stdout)["written"] is False
    with unit_of_work(write=False) as s:
        assert _count(s, "IMC") == 0
    done = run(str(good))
    assert done.returncode == 0 and "已导入：1 个站点" in done.stdout
    again = run(str(good))
    assert again.returncode == 1 and "第 2 行：MN 为 IMC001 的站点已存在" in again.stdout
    assert run(str(tmp_path / "missing.csv")).returncode == 2
