"""Backups: SQLite through its online backup API (consistent while the server runs), PostgreSQL through
pg_dump/pg_restore in the custom format. The uploads folder is archived beside the database.

Every backup first signs the audit chains' heads into the anchor folder (security/anchors.py), so the dump
holds at least the anchored events; every restore signs the restored heads as a ``restore`` checkpoint, which
voids the anchors of the events that the restore gave up."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from sqlalchemy.engine import make_url

from civicgrid.errors import AppError, InvalidInput
from civicgrid.security.anchors import CheckpointResult


def _sqlite_path(url: str) -> Path:
    return Path(url.split("///", 1)[-1])


def _pg_args(url: str) -> list[str]:
    u = make_url(url)
    args = [
        "-h",
        u.host or "127.0.0.1",
        "-p",
        str(u.port or 5432),
        "-U",
        u.username or "postgres",
        "-d",
        u.database or "",
    ]
    return args


def anchor_heads(url: str, *, kind: str = "checkpoint") -> CheckpointResult:
    """Sign the current chain heads of the database at ``url`` into the anchor file."""
    from civicgrid.db import get_engine, make_engine, unit_of_work
    from civicgrid.security.anchors import write_checkpoint
    from civicgrid.settings import get_settings

    own = url != get_settings().database_url
    engine = make_engine(url) if own else get_engine()
    try:
        with unit_of_work(engine, write=False) as session:
            return write_checkpoint(session, kind=kind, force=True)
    finally:
        if own:
            engine.dispose()


def _refused(done: str, result: CheckpointResult) -> None:
    if result.refused:
        raise AppError(f"{done}，但未能签发审计锚点：" + "；".join(result.refused), status=409)


def backup(url: str, out: Path, uploads: Path | None = None) -> list[Path]:
    """Write a backup of the database (and the uploads) to ``out`` (a file path; suffixes are added), after a
    checkpoint of the audit chains (the anchor file is listed last). A head that cannot be signed (tampered)
    does not stop the backup; it is raised as an error once the backup is written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    anchored = anchor_heads(url)
    written: list[Path] = []
    if url.startswith("sqlite"):
        src = sqlite3.connect(_sqlite_path(url))
        dst_path = out.with_suffix(".sqlite3")
        dst = sqlite3.connect(dst_path)
        with dst:
            src.backup(dst)
        dst.close()
        src.close()
        ok = sqlite3.connect(dst_path).execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise AppError(f"备份文件完整性检查失败：{ok}", status=500)
        written.append(dst_path)
    elif url.startswith("postgresql"):
        if not shutil.which("pg_dump"):
            raise InvalidInput("找不到 pg_dump：请安装 PostgreSQL 客户端")
        dst_path = out.with_suffix(".pgdump")
        subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "-f", str(dst_path), *_pg_args(url)],
            check=True,
            capture_output=True,
        )
        written.append(dst_path)
    else:
        raise InvalidInput(f"不支持的数据库：{url.split(':', 1)[0]}")
    if uploads is not None and uploads.is_dir():
        tar_path = out.with_suffix(".uploads.tar.gz")
        with tarfile.open(tar_path, "w:gz") as tar:
            tar.add(uploads, arcname="uploads")
        written.append(tar_path)
    if anchored.written:
        written.append(anchored.path)
    _refused(f"备份已写入（{'、'.join(str(p) for p in written)}）", anchored)
    return written


def restore(
    url: str, backup_file: Path, uploads_archive: Path | None = None, uploads: Path | None = None
) -> None:
    """Restore a database backup over ``url`` (the server must be stopped). PostgreSQL: into an existing empty
    or to-be-cleaned database (``pg_restore --clean``)."""
    if not backup_file.is_file():
        raise InvalidInput(f"备份文件不存在：{backup_file}")
    if url.startswith("sqlite"):
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for extra in (Path(str(target) + "-wal"), Path(str(target) + "-shm")):
            extra.unlink(missing_ok=True)
        src = sqlite3.connect(backup_file)
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    elif url.startswith("postgresql"):
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_args(url), str(backup_file)],
            check=True,
            capture_output=True,
        )
    else:
        raise InvalidInput(f"不支持的数据库：{url.split(':', 1)[0]}")
    if uploads_archive is not None and uploads is not None and uploads_archive.is_file():
        uploads.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(uploads_archive) as tar:
            tar.extractall(uploads.parent, filter="data")
    _refused("已恢复", anchor_heads(url, kind="restore"))
