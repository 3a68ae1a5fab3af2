"""``civicgrid audit verify|checkpoint`` (the keyed chains and their anchors outside the database) and
``civicgrid pii rotate`` (re-encrypt personal data with the newest key and the configured cipher)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from civicgrid.console import console, err

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)


@audit_app.command("verify")
def verify(json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """校验案卷事件与安全事件的审计链（带密钥的链接码、链尾签名、外部锚点）：发现被修改、删除或截断的记录时以非零状态退出。"""
    from sqlalchemy import func, select

    from civicgrid.db import unit_of_work
    from civicgrid.models import CaseEvent, SecurityEvent
    from civicgrid.security.audit import verify_report

    with unit_of_work(write=False) as session:
        report = verify_report(session)
        counts = {
            "case_events": session.scalar(select(func.count()).select_from(CaseEvent)) or 0,
            "security_events": session.scalar(select(func.count()).select_from(SecurityEvent)) or 0,
        }
    problems = report.problems
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "ok": not problems,
                    "checked": counts,
                    "anchors": report.anchors,
                    "notes": report.notes,
                    "problems": [{"chain": p.chain, "seq": p.seq, "problem": p.problem} for p in problems],
                },
                ensure_ascii=False,
            )
        )
    else:
        out = console
        out.print(
            f"已校验案卷事件 {counts['case_events']} 条、安全事件 {counts['security_events']} 条，"
            f"外部锚点 {report.anchors} 个。"
        )
        for note in report.notes:
            out.print(f"[yellow]注意：{note}[/yellow]")
        for p in problems:
            out.print(f"[red]✗ {p.chain} 第 {p.seq} 条：{p.problem}[/red]")
        if not problems:
            out.print("[green]哈希链完整，未发现篡改或删除。[/green]")
    if problems:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint(
    force: Annotated[bool, typer.Option("--force", help="链尾未变也写入")] = False,
) -> None:
    """把各审计链当前的链尾签名后写入外部锚点文件（数据库之外），供 audit verify 发现截断或改写。"""
    from civicgrid.db import unit_of_work
    from civicgrid.security.anchors import write_checkpoint

    with unit_of_work(write=False) as session:
        result = write_checkpoint(session, force=force)
    out = console
    for e in result.written:
        out.print(f"已写入锚点：{e['chain']} 第 {e['seq']} 条（{e['alg']}）→ {result.path}")
    for name in result.unchanged:
        out.print(f"{name}：链尾自上次锚点以来未变，未重复写入。")
    for problem in result.refused:
        err.print(f"[red]错误：{problem}[/red]")
    if result.refused:
        raise typer.Exit(1)


pii_app = typer.Typer(help="个人信息加密", no_args_is_help=True)


@pii_app.command("rotate")
def rotate() -> None:
    """用最新的密钥（CIVICGRID_PII_KEYS 的第一个）和当前算法（CIVICGRID_PII_CIPHER）重新加密所有个人信息。"""
    from sqlalchemy import select

    from civicgrid.db import unit_of_work
    from civicgrid.models import Case, User
    from civicgrid.security import audit
    from civicgrid.security import pii as crypto

    n = users = failed = 0

    def again(token: str | None) -> str | None:
        nonlocal failed
        try:
            return crypto.rotate(token)
        except crypto.UndecryptableError:
            failed += 1
            return token  # never lose a value: it stays as it is until its key is listed again

    with unit_of_work() as session:
        for case in session.scalars(
            select(Case)
            .where((Case.reporter_name_enc.is_not(None)) | (Case.reporter_phone_enc.is_not(None)))
            .execution_options(yield_per=1000)
        ):
            case.reporter_name_enc = again(case.reporter_name_enc)
            case.reporter_phone_enc = again(case.reporter_phone_enc)
            n += 1
        for user in session.scalars(
            select(User).where((User.phone_enc.is_not(None)) | (User.totp_secret_enc.is_not(None)))
        ):
            user.phone_enc = again(user.phone_enc)
            user.totp_secret_enc = again(user.totp_secret_enc)
            users += 1
        audit.record(
            session, "pii_rotate", subject="cases", data={"cases": n, "users": users, "undecryptable": failed}
        )
    console.print(f"已用新密钥重新加密 {n} 件案卷的报告人信息和 {users} 个账号的个人信息。")
    if failed:
        err.print(
            f"[red]有 {failed} 项无法解密（加密它们的旧密钥已不在 CIVICGRID_PII_KEYS 中），已保持原样。[/red]"
        )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(pii_app, name="pii")
