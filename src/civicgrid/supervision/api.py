"""督查督办 over the JSON API: import a document (text or .txt/.docx file), list directives and read a task
tree with its 红黄绿灯, a unit's tasks, and every task action (交办, 签收, 进展报告, 申请办结,
销号/退办, 延期, 催办, 督办) through the task workflow's one transition function. Errors are RFC 9457
problems (civicgrid.errors)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import InvalidInput, NotYourCase
from civicgrid.models import utcnow
from civicgrid.org.auth import CurrentUser, require_roles
from civicgrid.org.roles import Principal
from civicgrid.settings import get_settings
from civicgrid.supervision import outline, service
from civicgrid.supervision.tasks import ACTION_DATA, allowed_actions, local_day, reach, transition

router = APIRouter(prefix="/api/v1/supervision", tags=["督查督办 supervision"], route_class=UnitOfWorkRoute)

Supervisor = Annotated[Principal, Depends(require_roles("supervisor"))]
Overseer = Annotated[Principal, Depends(require_roles("supervisor", "leader", "admin"))]
Reader = Annotated[Principal, Depends(require_roles("supervisor", "leader", "handler", "admin"))]


class DirectiveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    source: str = Field(default="文件", description="讲话、会议决定、领导批示、文件 …")
    issued_by: str = Field(default="", max_length=100)
    issued_on: date | None = None
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)


def _imported(
    session: Any, user: Principal, meta: service.DirectiveIn, text: str, dry_run: bool
) -> dict[str, Any]:
    if dry_run:
        service.check_meta(meta)
        nodes = service.parse_text(text)
        return {"dry_run": True, "count": outline.count(nodes), "tasks": [n.as_json() for n in nodes]}
    directive, tasks = service.import_directive(session, meta, text, user, now=utcnow())
    out = service.tree(session, directive.id, local_day(utcnow()))
    out["count"] = len(tasks)
    return out


@router.post("/directives", summary="导入督办事项（正文文本），分解为任务树", status_code=201)
def import_text(
    session: DbSession,
    user: Supervisor,
    body: DirectiveBody,
    dry_run: Annotated[bool, Query(description="只解析不保存")] = False,
) -> dict[str, Any]:
    meta = service.DirectiveIn(body.title, body.source, body.issued_by, body.issued_on)
    return _imported(session, user, meta, body.text, dry_run)


@router.post("/directive-files", summary="导入督办事项（上传 .txt 或 .docx 文件）", status_code=201)
def import_file(
    session: DbSession,
    user: Supervisor,
    file: Annotated[UploadFile, File(description=".txt（UTF-8 或 GBK）或 .docx 文件")],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    source: Annotated[str, Form()] = "文件",
    issued_by: Annotated[str, Form(max_length=100)] = "",
    issued_on: Annotated[date | None, Form()] = None,
    dry_run: Annotated[bool, Query(description="只解析不保存")] = False,
) -> dict[str, Any]:
    limit = get_settings().max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"文件不能超过 {limit // (1024 * 1024)} MB", field="file")
    text = document_text(data, file.filename or "")
    meta = service.DirectiveIn(title, source, issued_by, issued_on)
    return _imported(session, user, meta, text, dry_run)


def document_text(data: bytes, filename: str) -> str:
    """The text of an uploaded .docx or .txt (UTF-8, else GBK); anything else is refused with 422."""
    if filename.lower().endswith(".docx"):
        try:
            return outline.docx_text(data)
        except Exception:  # a damaged or renamed file: python-docx raises several kinds
            raise InvalidInput("无法读取该 .docx 文件", field="file") from None
    if not filename.lower().endswith(".txt"):
        raise InvalidInput("只支持 .txt 或 .docx 文件", field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("无法识别文件编码（应为 UTF-8 或 GBK）", field="file")


@router.get("/directives", summary="督办事项列表")
def list_directives(session: DbSession, user: Overseer) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "title": d.title,
            "source": d.source,
            "issued_by": d.issued_by,
            "issued_on": d.issued_on.isoformat() if d.issued_on else None,
            "created_at": d.created_at.isoformat(),
        }
        for d in service.directives(session)
    ]


@router.get("/directives/{directive_id}", summary="督办事项的任务树（含红黄绿灯）")
def directive_tree(session: DbSession, user: Overseer, directive_id: RowId) -> dict[str, Any]:
    return service.tree(session, directive_id, local_day(utcnow()))


@router.get("/tasks/mine", summary="本单位的督办任务（牵头或配合）")
def my_tasks(session: DbSession, user: CurrentUser) -> list[dict[str, Any]]:
    return service.unit_tasks(session, user, local_day(utcnow()))


@router.get("/tasks/{task_id}", summary="一项督办任务")
def get_task(session: DbSession, user: Reader, task_id: RowId) -> dict[str, Any]:
    task = service.get_task(session, task_id)
    if not any(reach(user, role, task) for role in user.roles):
        raise NotYourCase("该督办任务不在您的职责范围内")
    out = service.present_task(task, service.unit_names(session), local_day(utcnow()))
    out["actions"] = allowed_actions(user, task)
    return out


@router.post(
    "/tasks/{task_id}/{action}",
    summary="对督办任务执行操作：assign 交办、sign 签收、report 进展报告、apply 申请办结、accept 销号、"
    "return 退办、extend 延期、urge 催办、supervise 督办",
)
def act(
    session: DbSession,
    user: CurrentUser,
    task_id: RowId,
    action: str,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    if action not in ACTION_DATA or action == "roll_up":
        raise InvalidInput(f"未知的操作：{action}", allowed=sorted(a for a in ACTION_DATA if a != "roll_up"))
    task = service.get_task(session, task_id)
    event = transition(session, task, action, user, body or {}, now=utcnow())
    out = service.present_task(task, service.unit_names(session), local_day(utcnow()))
    out["event"] = {"id": event.id, "action": event.action, "from": event.from_state, "to": event.to_state}
    out["actions"] = allowed_actions(user, task)
    return out
