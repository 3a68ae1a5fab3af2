"""``civicgrid apikey create|list|revoke``: Open311 client keys (printed once, only a hash is kept)."""

from __future__ import annotations

from typing import Annotated

import typer

from civicgrid.console import console, err
from civicgrid.errors import AppError

apikey_app = typer.Typer(help="Open311 API 密钥管理", no_args_is_help=True)


@apikey_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="客户端名称，如 “12345 热线对接”")],
    department: Annotated[
        str | None,
        typer.Option(help="绑定专业部门（其工单系统的进展更新将以该部门处置人员身份签收、反馈、回退）"),
    ] = None,
) -> None:
    """新建 API 密钥（只显示这一次，请妥善保存）。"""
    from civicgrid.db import unit_of_work
    from civicgrid.open311.keys import create_key

    try:
        with unit_of_work() as session:
            new = create_key(session, name, department)
    except AppError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(1) from None
    console.print(f"已创建客户端 {new.client_id}（{new.name}）。API 密钥只显示这一次：")
    typer.echo(new.key)


@apikey_app.command("list")
def list_() -> None:
    """列出 API 客户端（不显示密钥）。"""
    from rich.table import Table

    from civicgrid.db import unit_of_work
    from civicgrid.open311.keys import list_keys
    from civicgrid.open311.timefmt import w3c

    table = Table(title="Open311 API 客户端")
    for col in ("编号", "名称", "密钥前缀", "创建时间", "最近使用", "状态"):
        table.add_column(col)
    with unit_of_work(write=False) as session:
        for c in list_keys(session):
            state = f"已停用 {w3c(c.revoked_at)}" if c.revoked_at else "有效"
            table.add_row(
                str(c.id),
                c.name,
                "cg311_" + c.key_prefix + "…",
                w3c(c.created_at) or "",
                w3c(c.last_used_at) or "从未使用",
                state,
            )
    console.print(table)


@apikey_app.command("revoke")
def revoke(client_id: Annotated[int, typer.Argument(help="客户端编号（见 apikey list）")]) -> None:
    """停用 API 密钥（立即生效）。"""
    from civicgrid.db import unit_of_work
    from civicgrid.open311.keys import revoke_key

    try:
        with unit_of_work() as session:
            client = revoke_key(session, client_id)
            name = client.name
    except AppError as exc:
        err.print(f"[red]错误：[/red]{exc.message}")
        raise typer.Exit(1) from None
    console.print(f"已停用客户端 {client_id}（{name}）的 API 密钥。")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the ``civicgrid`` command line."""
    app.add_typer(apikey_app, name="apikey")
