"""``civicgrid user add|totp``: staff accounts from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from civicgrid.console import console, fail
from civicgrid.errors import AppError

user_app = typer.Typer(help="用户管理", no_args_is_help=True)


def user_add(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            help="角色，可多次指定：citizen inspector operator shift_lead dispatcher handler leader admin",
        ),
    ],
    password: Annotated[str, typer.Option(help="密码（至少 8 位）")],
    name: Annotated[str, typer.Option(help="显示名")] = "",
    department: Annotated[str | None, typer.Option(help="所属部门代码（处置人员必填）")] = None,
    grid: Annotated[
        list[str] | None, typer.Option("--grid", help="负责的网格（或社区、街道）代码，可多次指定")
    ] = None,
) -> None:
    """新建用户。"""
    from civicgrid.db import unit_of_work
    from civicgrid.org.service import create_user

    try:
        with unit_of_work() as session:
            user = create_user(
                session,
                username,
                password,
                role,
                display_name=name,
                department_code=department,
                grid_codes=grid or [],
            )
            uid = user.id
    except AppError as exc:
        raise fail(exc.message) from None
    console.print(f"已创建用户 {username}（编号 {uid}），角色：{'、'.join(role)}")


def user_totp(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """为员工账号启用动态口令（TOTP）第二因素：打印供手机令牌 App 扫描的地址（只显示一次）。"""
    from civicgrid.db import unit_of_work
    from civicgrid.org.service import enable_totp

    try:
        with unit_of_work() as session:
            uri = enable_totp(session, username)
    except AppError as exc:
        raise fail(exc.message) from None
    console.print(f"已为 {username} 启用动态口令。请用令牌 App 添加（只显示这一次）：")
    typer.echo(uri)


def register(app: typer.Typer) -> None:
    """Add the account commands to the ``civicgrid`` command line."""
    user_app.command("add")(user_add)
    user_app.command("totp")(user_totp)
    app.add_typer(user_app, name="user")
