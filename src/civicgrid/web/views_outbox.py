"""系统管理 · 外发消息: undelivered deliveries (webhooks …), the failing ones first, with a retry button."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.errors import AppError
from civicgrid.notify import outbox
from civicgrid.settings import get_settings
from civicgrid.web.admin_common import TABS, Admin
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, flash

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=UnitOfWorkRoute)


@router.get("/outbox")
def outbox_page(request: Request, session: DbSession, admin: Admin) -> HTMLResponse:
    rows = outbox.undelivered(session)
    rows.sort(key=lambda r: (-r.attempts, r.created_at))
    return render(
        request,
        "admin/outbox.html",
        tabs=TABS,
        tab="outbox",
        stats=outbox.stats(session),
        rows=rows,
        failing_after=get_settings().outbox_failing_after,
    )


@router.post("/outbox/{msg_id}/retry")
def retry(request: Request, session: DbSession, admin: Admin, msg_id: RowId, form: CsrfForm) -> Response:
    response = RedirectResponse("/admin/outbox", status_code=303)
    try:
        outbox.retry_now(session, msg_id)
        session.commit()
    except AppError as exc:
        session.rollback()
        flash(response, exc.message, "error", request)
        return response
    flash(response, "已安排立即重试，下一轮投递时发送", "success", request)
    return response
