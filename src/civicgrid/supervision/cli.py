"""``civicgrid directive import`` (a document → its task tree) and ``civicgrid supervision bulletin`` (the
monthly 通报 as .docx or .xlsx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from civicgrid.console import console, fail

directive_app = typer.Typer(
    help="督办事项：导入讲话、会议决定、领导批示、文件，分解为任务树", no_args_is_help=True
)
supervision_app = typer.Typer(help="督查督办：通报", no_args_is_help=True)


def _read(path: Path) -> str:
    from civicgrid.errors import AppError
    from civicgrid.supervision.api import document_text

    if not path.is_file():
        raise fail(f"找不到文件：{path}", code=2)
    try:
        return document_text(path.read_bytes(), path.name)
    except AppError as exc:
        raise fail(exc.message, code=2) from None


def _print_tree(nodes: list[dict[str, Any]], depth: int = 0) -> None:
    for n in nodes:
        console.print("  " * depth + f"{n['number']} {n['title']}", markup=False, highlight=False)
        _print_tree(n["children"], depth + 1)


@directive_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help=".txt（UTF-8 或 GBK）或 .docx 文件")],
    title: Annotated[str | None, typer.Option("--title", help="督办事项标题，默认取文件名")] = None,
    source: Annotated[str, typer.Option("--source", help="来源：讲话、会议决定、领导批示、文件 …")] = "文件",
    issued_by: Annotated[str, typer.Option("--issued-by", help="交办领导或单位")] = "",
    day: Annotated[str | None, typer.Option("--date", help="日期 YYYY-MM-DD")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只解析显示任务树，不保存")] = False,
    json_out: Annotated[bool, typer.Option("--json", help='输出 JSON：{"tasks": [...]}')] = False,
) -> None:
    """把文件按“一、（一）1.（1）”和“一要、一是、第一”分解为任务树并保存（待交办）。"""
    from datetime import date

    from civicgrid.errors import AppError
    from civicgrid.supervision import outline, service

    text = _read(file)
    try:
        issued_on = date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"日期应为 YYYY-MM-DD：{day}", code=2) from None
    meta = service.DirectiveIn(title or file.stem, source, issued_by, issued_on)
    try:
        service.check_meta(meta)
        nodes = service.parse_text(text)
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    tree = [n.as_json() for n in nodes]
    directive_id = None
    if not dry_run:
        from civicgrid.db import unit_of_work
        from civicgrid.models import utcnow
        from civicgrid.org.roles import SYSTEM

        try:
            with unit_of_work() as session:
                directive, _ = service.import_directive(session, meta, text, SYSTEM, now=utcnow())
                directive_id = directive.id
        except AppError as exc:
            raise fail(exc.message, code=2) from None
    if json_out:
        out: dict[str, Any] = {"tasks": tree}
        if directive_id is not None:
            out["directive_id"] = directive_id
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    _print_tree(tree)
    count = outline.count(nodes)
    if directive_id is None:
        console.print(f"共 {count} 项任务（试运行，未保存）")
    else:
        console.print(f"已导入督办事项 #{directive_id}「{meta.title}」：{count} 项任务，待交办")


@supervision_app.command("bulletin")
def bulletin_command(
    period: Annotated[str, typer.Option("--period", help="月份 YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="输出文件：.docx 或 .xlsx")],
) -> None:
    """生成月度督查督办通报：单位按期办结排名、超期、退办、逾期报送，列出红灯、黄灯任务。"""
    from civicgrid.db import unit_of_work
    from civicgrid.errors import AppError
    from civicgrid.models import utcnow
    from civicgrid.supervision import bulletin

    if out.suffix.lower() not in (".docx", ".xlsx"):
        raise fail("通报文件应为 .docx 或 .xlsx", code=2)
    try:
        with unit_of_work(write=False) as session:
            b = bulletin.build(session, period, utcnow())
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    bulletin.write(b, out)
    console.print(
        f"已生成 {bulletin.title_of(b)}：{len(b.rows)} 个单位，"
        f"红灯 {len(b.red)} 项，黄灯 {len(b.yellow)} 项 → {out}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(directive_app, name="directive")
    app.add_typer(supervision_app, name="supervision")
