"""导出 Excel from every list: the center queue, the department inbox, the inspector's tasks, the notices and
the leader's tables. Each export takes the list's own parameters, reads through the same scoped query as the
list (``readable_cases``; the whole match, not one page), shows what the list shows (no reporter's personal
data), refuses a list longer than the Excel cap with a Chinese message (nothing is written then), and is
recorded in the security log (``security.exportlog``) before the file leaves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from civicgrid.analytics import exports
from civicgrid.analytics.cockpit import (
    UNIT_KINDS,
    departments,
    overdue_cases,
    period_start,
    rankings,
    supervised_cases,
)
from civicgrid.analytics.settings import get_analytics_settings
from civicgrid.cases import repository, search
from civicgrid.cases.repository import CaseFilter
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import utcnow
from civicgrid.notify import inbox
from civicgrid.org.roles import Principal
from civicgrid.replica import ReadSession
from civicgrid.security.exportlog import SecurityLog, log_http_export
from civicgrid.web.render import format_dt, local
from civicgrid.web.session import WebUser, require_web_roles
from civicgrid.web.views_center import (
    CENTER_ROLES,
    DEFAULT_SORT,
    Queue,
    day_start,
    local_day,
    queue_filter,
)
from civicgrid.web.views_dept import TABS as DEPT_TABS
from civicgrid.web.views_inspector import my_tasks

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

CenterUser = Annotated[Principal, Depends(require_web_roles(*CENTER_ROLES))]
DeptUser = Annotated[Principal, Depends(require_web_roles("handler"))]
InspectorUser = Annotated[Principal, Depends(require_web_roles("inspector"))]
Leader = Annotated[Principal, Depends(require_web_roles("leader"))]
PERIODS = (7, 30, 90, 365)


def xlsx_response(body: bytes, name: str) -> Response:
    """The workbook as a download named ``<name>-<local time>.xlsx`` (Chinese name for browsers that read
    RFC 5987, an ASCII one for the rest)."""
    stamp = local(utcnow()).strftime("%Y%m%d-%H%M")
    chinese = quote(f"{name}-{stamp}.xlsx")
    return Response(
        body,
        media_type=exports.FORMATS["xlsx"],
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"export-{stamp}.xlsx\"; filename*=UTF-8''{chinese}"
            ),
            "Cache-Control": "no-store",
        },
    )


def check_cap(count: int) -> None:
    """A list longer than the Excel cap is refused before anything is read or written."""
    cap = get_analytics_settings().xlsx_web_max_rows
    if count > cap:
        raise InvalidInput(
            f"共有 {count} 行，超过 Excel 导出上限 {cap} 行。请缩小筛选范围（如按时间、街道）后再导出；"
            "更多行请用接口 /api/v1/exports/cases 导出 CSV。",
            rows=count,
            max_rows=cap,
        )


def _table(
    request: Request,
    write: Any,
    user: Principal,
    *,
    what: str,
    name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    filters: Any,
    widths: Sequence[int] = (),
) -> Response:
    check_cap(len(rows))
    body = exports.table_xlsx(name, headers, rows, widths=widths)
    log_http_export(
        write, request, user, what=what, fmt="xlsx", filters=filters, rows=len(rows), channel="web"
    )
    return xlsx_response(body, name)


def _cases(
    request: Request,
    session: Any,
    write: Any,
    user: Principal,
    f: CaseFilter,
    *,
    what: str,
    name: str,
    sort: str = DEFAULT_SORT,
) -> Response:
    """Every case of a case list (the list's filter and order), in the case export's columns."""
    _, total = repository.list_cases(session, user, f, page=1, page_size=1)
    check_cap(total)
    rows = exports.export_rows(session, user, f, sort=sort)
    body = exports.xlsx_bytes(rows, get_analytics_settings().xlsx_max_rows, title=name)
    log_http_export(write, request, user, what=what, fmt="xlsx", filters=f, rows=len(rows), channel="web")
    return xlsx_response(body, name)


@router.get("/center/export.xlsx")
def center_export(
    request: Request, session: DbSession, user: CenterUser, security_log: SecurityLog, queue: Queue
) -> Response:
    """The queue as filtered on /center (every matching case, not one page)."""
    f = queue_filter(queue, user)
    return _cases(
        request, session, security_log, user, f, what="center_queue", name="案卷列表", sort=queue.sort
    )


@router.get("/dept/export.xlsx")
def dept_export(
    request: Request,
    session: DbSession,
    user: DeptUser,
    security_log: SecurityLog,
    tab: Annotated[str, Query(pattern="^(new|doing|overdue|done|all)$")] = "new",
    q: Annotated[str, Query(max_length=search.MAX_CHARS)] = "",
    received_from: Annotated[str, Query(max_length=10)] = "",
    received_to: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The department's inbox tab as shown on /dept (only the department's cases: the handler's scope)."""
    from dataclasses import replace
    from datetime import timedelta

    text = search.normalise(q)
    day_from, day_to = local_day(received_from), local_day(received_to)
    f = replace(
        DEPT_TABS[tab],
        text=text if len(text) >= search.MIN_CHARS else None,
        received_from=day_start(day_from) if day_from else None,
        received_to=day_start(day_to + timedelta(days=1)) if day_to else None,
    )
    return _cases(request, session, security_log, user, f, what="dept_inbox", name="部门案卷")


@router.get("/inspector/export.xlsx")
def inspector_export(
    request: Request, session: DbSession, user: InspectorUser, security_log: SecurityLog
) -> Response:
    """My tasks (核实 and 核查 in my grids), by time left, as the task list shows them."""
    tasks = my_tasks(session, user, None, None)
    rows = [
        (
            t.kind,
            t.case.number,
            t.category,
            t.case.description,
            t.case.address or "",
            format_dt(t.due) if t.due else "",
            "是" if t.due and t.due < utcnow() else "否",
        )
        for t in tasks
    ]
    headers = ("任务", "案卷号", "类别", "问题描述", "地址", "时限", "已超时")
    return _table(
        request,
        security_log,
        user,
        what="inspector_tasks",
        name="我的任务",
        headers=headers,
        rows=rows,
        filters={},
        widths=(6, 20, 14, 48, 30, 17, 7),
    )


@router.get("/inbox/export.xlsx")
def inbox_export(
    request: Request,
    session: DbSession,
    user: WebUser,
    security_log: SecurityLog,
    unread: Annotated[bool, Query()] = False,
) -> Response:
    """My notices as /inbox lists them (the same 100 newest, or the unread ones)."""
    assert user.user_id is not None
    items = inbox.inbox(session, user.user_id, unread_only=unread, limit=100)
    rows = [
        (format_dt(n.created_at), n.title, n.body or "", "已读" if n.read_at else "未读", n.case_id)
        for n in items
    ]
    return _table(
        request,
        security_log,
        user,
        what="notices",
        name="我的通知",
        headers=("时间", "标题", "内容", "状态", "案卷编号（内部）"),
        rows=rows,
        filters={"unread": unread or None},
        widths=(17, 30, 60, 6, 12),
    )


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


def _dt(value: datetime | None) -> str:
    return format_dt(value) if value else ""


@dataclass(frozen=True)
class LeaderTable:
    """A list of the leader page exported as shown there (all of it, not the 15 rows on the page)."""

    name: str
    headers: tuple[str, ...]
    widths: tuple[int, ...]
    rows: Callable[[Session], list[tuple[Any, ...]]]


def _overdue_rows(session: Session) -> list[tuple[Any, ...]]:
    """超期案卷: every case overdue now (the tile's count; one past the cap, so that it is refused)."""
    lines = overdue_cases(session, utcnow(), limit=get_analytics_settings().xlsx_web_max_rows + 1)
    return [
        (c.number, c.category, c.department, c.area, _dt(c.due_at), "是" if c.supervised else "否")
        for c in lines
    ]


def _supervised_rows(session: Session) -> list[tuple[Any, ...]]:
    """督办跟踪: every case under a leader's supervision that is not finished."""
    lines = supervised_cases(session, limit=None)
    return [(c.number, c.category, c.note, c.department, _dt(c.noted_at), _dt(c.due_at)) for c in lines]


LEADER_TABLES = {
    "overdue": LeaderTable(
        "超期案卷",
        ("案卷号", "类别", "责任单位", "区域", "处置期限", "已督办"),
        (20, 14, 20, 24, 17, 7),
        _overdue_rows,
    ),
    "supervised": LeaderTable(
        "督办跟踪",
        ("案卷号", "类别", "督办意见", "责任单位", "督办时间", "处置期限"),
        (20, 14, 40, 20, 17, 17),
        _supervised_rows,
    ),
}


@router.get("/leader/export/ranking.xlsx")
def leader_ranking_export(
    request: Request,
    session: ReadSession,
    user: Leader,
    security_log: SecurityLog,
    days: Annotated[int, Query()] = 30,
) -> Response:
    """按期处置排名 of the period: per kind of unit, the ranked units, then those with too few cases."""
    days = days if days in PERIODS else 30
    now = utcnow()
    rows: list[tuple[Any, ...]] = []
    for r in rankings(departments(session, period_start(now, days), now)):
        kind = UNIT_KINDS[r.kind]
        for i, d in enumerate(r.ranked, start=1):
            rows.append((kind, i, d.code, d.name, _pct(d.rate), d.on_time, d.due, d.overdue_now, ""))
        note = f"案件量不足（应处置少于 {r.min_cases} 件），不参与排名"
        for d in r.unranked:
            rows.append((kind, None, d.code, d.name, _pct(d.rate), d.on_time, d.due, d.overdue_now, note))
    return _table(
        request,
        security_log,
        user,
        what="leader_ranking",
        name="按期处置排名",
        headers=(
            "单位类型",
            "排名",
            "代码",
            "单位",
            "按期处置率（%）",
            "按期处置",
            "应处置",
            "当前超期",
            "说明",
        ),
        rows=rows,
        filters={"days": days},
        widths=(10, 6, 10, 22, 11, 9, 8, 9, 36),
    )


# Declared after ranking.xlsx, which it would otherwise match.
@router.get("/leader/export/{table}.xlsx")
def leader_table_export(
    table: str, request: Request, session: ReadSession, user: Leader, security_log: SecurityLog
) -> Response:
    """超期案卷 (/leader/export/overdue.xlsx) or 督办跟踪 (/leader/export/supervised.xlsx)."""
    spec = LEADER_TABLES.get(table)
    if spec is None:
        raise NotFound("没有这种导出")
    return _table(
        request,
        security_log,
        user,
        what=f"leader_{table}",
        name=spec.name,
        headers=spec.headers,
        rows=spec.rows(session),
        filters={},
        widths=spec.widths,
    )
