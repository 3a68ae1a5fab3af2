"""What a new user of the command line meets first: a fast ``--help`` listing every group, a clear Chinese
error (and no traceback, and no database created) outside the project or on an unmigrated database, and
dates accepted wherever a time is asked for."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "civicgrid"
GROUPS = ("user", "audit", "pii", "uploads", "jobs", "services", "apikey", "report", "warehouse", "export")
COMMANDS = ("migrate", "init", "serve", "locate", "deadline", "classify", "backup", "restore", "evaluate")


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'cg.db'}",
        CIVICGRID_DATA_DIR=str(folder),
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env | extra


def _run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_help_lists_every_group_and_imports_nothing_heavy() -> None:
    p = _run(dict(os.environ, COLUMNS="200"), "--help")
    assert p.returncode == 0, p.stderr
    listed = {line.split()[0] for line in p.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert set(GROUPS) | set(COMMANDS) <= listed
    # What --help loads: no database layer, no classifier, no geometry, no web framework.
    code = (
        "import sys\nfrom civicgrid.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'sklearn', 'joblib', 'shapely', 'pyproj', 'fastapi', 'numpy', 'pydantic',\n"
        "         'rich', 'alembic')\n"
        "print('HEAVY:' + ','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_missing_database_is_a_clear_error_and_creates_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for args in (("audit", "verify"), ("user", "add", "li", "--role", "operator", "--password", "x" * 12),
                 ("locate", "120.6", "31.3"), ("export", "cases"), ("serve",), ("backup",)):  # fmt: skip
        p = _run(env, *args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "找不到数据库文件" in p.stderr and "civicgrid init" in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "cg.db").exists()
    # Commands that need no database still work, and so does --help of one that does.
    assert _run(env, "deadline", "E0102", "2026-09-30").returncode == 0
    assert _run(env, "user", "add", "--help").returncode == 0
    assert not (tmp_path / "cg.db").exists()


def test_unmigrated_and_outdated_databases_say_what_to_run(tmp_path: Path) -> None:
    env = _env(tmp_path)
    sqlite3.connect(tmp_path / "cg.db").close()  # an empty file
    p = _run(env, "audit", "verify")
    assert p.returncode == 2 and "还没有初始化" in p.stderr and "civicgrid init" in p.stderr
    con = sqlite3.connect(tmp_path / "cg.db")
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    con.execute("INSERT INTO alembic_version VALUES ('0003')")
    con.commit()
    con.close()
    p = _run(env, "apikey", "list")
    assert p.returncode == 2 and "结构不是最新" in p.stderr and "civicgrid migrate" in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.skipif(os.environ.get("CIVICGRID_TEST_DB") != "postgresql", reason="PostgreSQL pass only")
def test_unreachable_postgresql_is_a_clear_error(tmp_path: Path) -> None:
    env = _env(tmp_path, CIVICGRID_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/cg_no_such_db")
    for args in (("audit", "verify"), ("init",)):
        p = _run(env, *args)
        assert p.returncode == 2 and "无法连接数据库" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_export_takes_plain_dates_and_refuses_bad_ones(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _run(env, "init").returncode == 0
    out = tmp_path / "cases.csv"
    for frm, to in (("2026-10-01", "2026-11-01"), ("2026-10-01T08:30", "2026-10-02 08:30")):
        p = _run(env, "export", "cases", "--received-from", frm, "--received-to", to, "-o", str(out))
        assert p.returncode == 0, p.stderr
        assert "已导出 0 件案卷" in p.stdout
    bad = _run(env, "export", "cases", "--received-from", "2026-13-01", "-o", str(out))
    assert bad.returncode == 2 and "无法识别的时间" in bad.stderr and "Traceback" not in bad.stderr
