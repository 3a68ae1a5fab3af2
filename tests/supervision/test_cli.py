"""``civicgrid directive import`` and ``civicgrid supervision bulletin`` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import docx
import pytest

from .helpers import TEXT

BIN = Path(sys.executable).parent / "civicgrid"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.slow  # three runs of the entry point (each imports the house)
def test_dry_run_json_needs_no_database(tmp_path: Path) -> None:
    f = tmp_path / "通知.txt"
    f.write_text(TEXT, encoding="gbk")  # GBK files are read too
    r = run("directive", "import", str(f), "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "tasks": [
            {
                "number": "一、",
                "title": "城乡一体化供水",
                "body": "",
                "children": [
                    {
                        "number": "（一）",
                        "title": "完成管网改造",
                        "body": "年底前完成50公里。",
                        "children": [],
                    },
                    {"number": "（二）", "title": "新建加压泵站", "body": "", "children": []},
                ],
            },
            {"number": "二、", "title": "改造老旧小区", "body": "", "children": []},
        ]
    }
    bad = run("directive", "import", str(f), "--dry-run", "--source", "传说")
    assert bad.returncode == 2 and "来源应为" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("directive", "import", str(tmp_path / "none.txt"))
    assert missing.returncode == 2 and "找不到文件" in missing.stderr


@pytest.mark.slow
def test_import_and_bulletin_on_a_database_of_their_own(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cg-sup-cli-"))
    env = dict(
        os.environ,
        CIVICGRID_DATABASE_URL=f"sqlite:///{folder / 'cli.db'}",
        CIVICGRID_DATA_DIR=str(folder),
        NO_COLOR="1",
        COLUMNS="200",
    )
    assert run("init", env=env).returncode == 0
    document = docx.Document()
    for line in ("关于河道保洁的批示", "第一，要压实河长责任。", "第二，要加强日常保洁。"):
        document.add_paragraph(line)
    f = tmp_path / "批示.docx"
    document.save(str(f))
    r = run(
        "directive",
        "import",
        str(f),
        "--source",
        "领导批示",
        "--issued-by",
        "王区长",
        "--date",
        "2026-03-01",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "第一 要压实河长责任" in r.stdout and "已导入督办事项 #1「批示」：2 项任务" in r.stdout
    out = tmp_path / "通报.docx"
    r = run("supervision", "bulletin", "--period", "2026-03", "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert docx.Document(str(out)).paragraphs[0].text == "督查督办工作通报（2026年3月）"
    bad = run("supervision", "bulletin", "--period", "2026-3", "--out", str(out), env=env)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
