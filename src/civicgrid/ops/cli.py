"""``civicgrid backup`` and ``civicgrid restore``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from civicgrid.console import console, err


def backup(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="备份文件（不含后缀）；默认 <数据目录>/backups/civicgrid-时间"),
    ] = None,
) -> None:
    """在线备份数据库与上传的照片（SQLite 在线备份；PostgreSQL 用 pg_dump）。"""
    from civicgrid.errors import AppError
    from civicgrid.ops.backup import backup as do_backup
    from civicgrid.settings import get_settings

    s = get_settings()
    target = out or s.data_dir / "backups" / f"civicgrid-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        written = do_backup(s.database_url, target, s.upload_dir)
    except AppError as exc:  # e.g. a tampered audit head: the dump is written, the anchor refused
        err.print(f"[red]错误：{exc.message}[/red]")
        raise typer.Exit(1) from None
    for p in written:
        console.print(f"已写入 {p}（{p.stat().st_size:,} 字节）")


def restore(
    file: Annotated[
        Path, typer.Argument(help="备份文件（.sqlite3 或 .pgdump）", exists=True, dir_okay=False)
    ],
    uploads: Annotated[Path | None, typer.Option(help="照片归档（.uploads.tar.gz）")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="确认覆盖当前数据库")] = False,
) -> None:
    """从备份恢复（会覆盖当前数据库，请先停止服务）。"""
    from civicgrid.ops.backup import restore as do_restore
    from civicgrid.settings import get_settings

    if not yes:
        err.print("[red]恢复会覆盖当前数据库。确认请加 --yes。[/red]")
        raise typer.Exit(2)
    from civicgrid.errors import AppError

    s = get_settings()
    try:
        do_restore(s.database_url, file, uploads, s.upload_dir)
    except AppError as exc:
        err.print(f"[red]错误：{exc.message}[/red]")
        raise typer.Exit(1) from None
    console.print("已恢复。请运行 civicgrid audit verify 校验审计链。")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
