"""The command line through its real entry point, on a fresh database of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "civicgrid"


def _sq(lng: float, lat: float, d: float = 0.001) -> list[list[list[float]]]:
    return [[[lng, lat], [lng + d, lat], [lng + d, lat + d], [lng, lat + d], [lng, lat]]]


def grids_geojson() -> dict:
    feats = []
    for i, (dx, dy) in enumerate([(0, 0), (0.001, 0), (0, 0.001), (0.001, 0.001)]):
        comm = "001" if i < 2 else "002"
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": _sq(120.60 + dx, 31.30 + dy)},
                "properties": {
                    "code": f"320508001{comm}{i + 1:02d}",
                    "street_name": "平江街道",
                    "community_name": "桂花社区" if comm == "001" else "南环社区",
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="cg-cli-"))
    e = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'cli.db'}",
        CIVICGRID_DATA_DIR=str(folder),
        NO_COLOR="1",
        COLUMNS="200",
    )
    return e


def run(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    return p


def test_init_import_export_locate_user(env, tmp_path: Path) -> None:
    assert "已装入 16 个部门、78 个问题类别" in run(env, "init").stdout
    f = tmp_path / "grids.geojson"
    f.write_text(json.dumps(grids_geojson(), ensure_ascii=False), encoding="utf-8")
    dry = run(env, "import-grids", str(f))
    assert "有效网格 4 个，社区 2 个，错误 0 个" in dry.stdout and "没有写入" in dry.stdout
    assert "尚未导入网格" in run(env, "export-grids", code=1).stderr
    assert (
        "已写入并启用网格版本"
        in run(env, "import-grids", str(f), "--commit", "--district-name", "姑苏区").stdout
    )
    out = json.loads(run(env, "export-grids").stdout)
    assert sorted(x["properties"]["code"] for x in out["features"]) == [
        "32050800100101",
        "32050800100102",
        "32050800100203",
        "32050800100204",
    ]
    loc = json.loads(run(env, "locate", "120.6015", "31.3005", "--json").stdout)
    assert (loc["grid_code"], loc["community_name"], loc["street_name"]) == (
        "32050800100102",
        "桂花社区",
        "平江街道",
    )
    far = run(env, "locate", "120.70", "31.30", "--json", code=2)
    assert json.loads(far.stdout)["nearest_grid"] in {"32050800100102", "32050800100204"}
    assert (
        "已创建用户 zhang"
        in run(
            env,
            "user",
            "add",
            "zhang",
            "--role",
            "inspector",
            "--password",
            "long-enough-pw",
            "--grid",
            "320508001001",
        ).stdout
    )
    assert (
        "用户名已存在"
        in run(
            env, "user", "add", "zhang", "--role", "inspector", "--password", "long-enough-pw", code=1
        ).stderr
    )
    assert "哈希链完整" in run(env, "audit", "verify").stdout


def test_bad_geojson_is_refused_with_reasons(env, tmp_path: Path) -> None:
    bad = grids_geojson()
    bad["features"][0]["properties"]["code"] = "123"
    bad["features"][1]["geometry"]["coordinates"] = [
        [[120.6, 31.3], [120.601, 31.301], [120.601, 31.3], [120.6, 31.301], [120.6, 31.3]]
    ]
    f = tmp_path / "bad.geojson"
    f.write_text(json.dumps(bad), encoding="utf-8")
    p = run(env, "import-grids", str(f), "--commit", code=2)
    assert "未写入" in p.stderr and "第 0 个要素" in p.stderr and "第 1 个要素" in p.stderr


def test_deadline_across_national_day(env) -> None:
    out = json.loads(run(env, "deadline", "E0102", "2025-09-30T16:00", "--json").stdout)
    assert out["due"] == "2025-10-09T10:00:00+08:00" and out["limit_label"] == "4工作时"
    assert "无法识别的时限" in run(env, "deadline", "X1", "2025-09-30T16:00", code=2).stderr


def test_classify_prints_one_json_line_per_text(env, tmp_path: Path) -> None:
    f = tmp_path / "texts.txt"
    f.write_text("路边垃圾桶满了垃圾袋堆在地上\n燃气井盖附近有很重的燃气味\n", encoding="utf-8")
    lines = run(env, "classify", "--file", str(f), "--json").stdout.strip().splitlines()
    rows = [json.loads(x) for x in lines]
    assert [r["category_code"] for r in rows] == ["E0102", "C0111"]
    assert all(len(r["candidates"]) == 3 for r in rows)


def test_backup_and_restore_drill(env, tmp_path: Path) -> None:
    """Back up, lose data, restore: the cases and the audit chain come back whole."""
    run(env, "init")
    import sqlite3

    db = env["CIVICGRID_DATABASE_URL"].split("///", 1)[1]
    out = run(env, "backup", "--out", str(tmp_path / "bk")).stdout
    assert "bk.sqlite3" in out
    con = sqlite3.connect(db)
    before = con.execute("select count(*) from categories").fetchone()[0]
    con.execute("delete from routing_rules")
    con.execute("update categories set name = 'x'")
    con.commit()
    con.close()
    assert "确认请加 --yes" in run(env, "restore", str(tmp_path / "bk.sqlite3"), code=2).stderr
    run(env, "restore", str(tmp_path / "bk.sqlite3"), "--yes")
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from categories where name != 'x'").fetchone()[0] == before == 78
    assert "哈希链完整" in run(env, "audit", "verify").stdout


@pytest.mark.db
@pytest.mark.skipif(
    os.environ.get("CIVICGRID_TEST_DB") != "postgresql",
    reason="the PostgreSQL drill runs in the PostgreSQL pass",
)
def test_postgres_backup_and_restore_drill(tmp_path: Path) -> None:
    """pg_dump → damage → pg_restore --clean: the reference data and the audit chain come back whole."""
    import uuid

    from sqlalchemy import create_engine, text

    name = "cg_backup_" + uuid.uuid4().hex[:8]
    admin = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = dict(
        os.environ, CIVICGRID_DATABASE_URL=url, CIVICGRID_DATA_DIR=str(tmp_path), NO_COLOR="1", COLUMNS="200"
    )
    try:
        run(env, "init")
        run(env, "user", "add", "li", "--role", "operator", "--password", "long-enough-pw")
        assert ".pgdump" in run(env, "backup", "--out", str(tmp_path / "pg")).stdout
        db = create_engine(url)
        with db.begin() as c:
            c.execute(text("DELETE FROM routing_rules"))
            c.execute(text("UPDATE categories SET name = 'x'"))
        run(env, "restore", str(tmp_path / "pg.pgdump"), "--yes")
        with db.connect() as c:
            assert c.execute(text("SELECT count(*) FROM categories WHERE name <> 'x'")).scalar() == 78
            assert c.execute(text("SELECT count(*) FROM users WHERE username = 'li'")).scalar() == 1
        db.dispose()
        assert "哈希链完整" in run(env, "audit", "verify").stdout
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
