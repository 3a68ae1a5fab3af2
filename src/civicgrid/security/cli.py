"""``civicgrid audit verify``: walk the hash chains and report any edited or deleted row."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)


@audit_app.command("verify")
def verify(json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """校验案卷事件与安全事件的哈希链：发现被修改或删除的记录时以非零状态退出。"""
    from sqlalchemy import func, select

    from civicgrid.db import unit_of_work
    from civicgrid.models import CaseEvent, SecurityEvent
    from civicgrid.security.audit import verify_all

    with unit_of_work(write=False) as session:
        problems = verify_all(session)
        counts = {
            "case_events": session.scalar(select(func.count()).select_from(CaseEvent)) or 0,
            "security_events": session.scalar(select(func.count()).select_from(SecurityEvent)) or 0,
        }
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "ok": not problems,
                    "checked": counts,
                    "problems": [{"chain": p.chain, "seq": p.seq, "problem": p.problem} for p in problems],
                },
                ensure_ascii=False,
            )
        )
    else:
        out = Console()
        out.print(f"已校验案卷事件 {counts['case_events']} 条、安全事件 {counts['security_events']} 条。")
        for p in problems:
            out.print(f"[red]✗ {p.chain} 第 {p.seq} 条：{p.problem}[/red]")
        if not problems:
            out.print("[green]哈希链完整，未发现篡改或删除。[/green]")
    if problems:
        raise typer.Exit(1)


pii_app = typer.Typer(help="个人信息加密", no_args_is_help=True)


@pii_app.command("rotate")
def rotate() -> None:
    """用最新的密钥（CIVICGRID_PII_KEYS 的第一个）重新加密所有报告人姓名和电话。"""
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Case, User
    from civicgrid.security import audit
    from civicgrid.security import pii as crypto

    n = 0
    with unit_of_work() as session:
        for case in session.scalars(
            select(Case)
            .where((Case.reporter_name_enc.is_not(None)) | (Case.reporter_phone_enc.is_not(None)))
            .execution_options(yield_per=1000)
        ):
            case.reporter_name_enc = crypto.rotate(case.reporter_name_enc)
            case.reporter_phone_enc = crypto.rotate(case.reporter_phone_enc)
            n += 1
        for user in session.scalars(select(User).where(User.phone_enc.is_not(None))):
            user.phone_enc = crypto.rotate(user.phone_enc)
        audit.record(session, "pii_rotate", subject="cases", data={"cases": n})
    Console().print(f"已用新密钥重新加密 {n} 件案卷的报告人信息。")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(pii_app, name="pii")
