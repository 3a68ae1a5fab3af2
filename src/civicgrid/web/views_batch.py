"""Batch actions from the queue and the department inbox (批量签收 / 批量派遣 / 批量结案).

The checked cases are posted as ``id`` fields with the action; each goes through ``transition`` in its own
savepoint (``cases.batch``), the whole is committed, and the answer is a page listing every case number with
成功 or the reason it was refused — too long a list for a flash cookie, so it is rendered directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.cases import batch
from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.errors import AppError
from civicgrid.web.i18n import N_
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, WebUser, flash, safe_next

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

BATCH_LABELS = {"sign": N_("批量签收"), "dispatch": N_("批量派遣"), "close": N_("批量结案")}


def _ids(values: Sequence[object]) -> list[int]:
    return [int(v) for v in (str(x) for x in values) if v.isdigit() and 0 < len(v) < 10 and int(v) > 0]


@router.post("/cases/batch")
def batch_action(request: Request, session: DbSession, user: WebUser, form: CsrfForm) -> Response:
    back = safe_next(str(form.get("next") or ""), "/")
    action = str(form.get("action") or "")
    data: dict[str, object] = {}
    department = str(form.get("department_code") or "").strip()
    if action == "dispatch" and department:
        data["department_code"] = department
    note = str(form.get("note") or "").strip()
    if note:
        data["note"] = note
    try:
        result = batch.run_batch(session, user, action, _ids(form.getlist("id")), data)
    except AppError as exc:
        session.rollback()
        response: Response = RedirectResponse(back, status_code=303)
        flash(response, "批量操作未执行：{reason}", "error", values={"reason": exc.message})
        return response
    session.commit()
    return _result_page(request, result, back)


def _result_page(request: Request, result: batch.BatchResult, back: str) -> HTMLResponse:
    return render(
        request,
        "center/batch_result.html",
        result=result,
        title=BATCH_LABELS.get(result.action, result.label),
        back=back,
    )
