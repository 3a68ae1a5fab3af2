"""``civicgrid uploads sweep``: delete photos never attached to a case (and staged files a crash left)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from civicgrid.console import console

uploads_app = typer.Typer(help="上传的照片", no_args_is_help=True)


@uploads_app.command("sweep")
def sweep(
    hours: Annotated[
        int | None,
        typer.Option(min=1, help="删除多少小时前上传、至今未用于任何案卷的照片（默认取设置，24）"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只统计，不删除")] = False,
) -> None:
    """清理未被任何案卷使用的过期照片（数据库记录和文件），以及异常中断留下的暂存文件。"""
    from civicgrid.db import unit_of_work
    from civicgrid.storage.files import sweep_uploads

    older_than = timedelta(hours=hours) if hours else None
    with unit_of_work() as session:
        result = sweep_uploads(session, older_than=older_than, dry_run=dry_run)
    if dry_run:
        console.print(f"有 {result.rows} 张未使用的过期照片可清理（预览，未删除）。")
    else:
        console.print(
            f"已删除 {result.rows} 张未使用的过期照片，清理暂存文件 {result.staged_files} 个，"
            f"删除旧版保留的含位置信息原图 {result.originals} 个。"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(uploads_app, name="uploads")
