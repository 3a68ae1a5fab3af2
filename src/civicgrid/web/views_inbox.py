"""我的通知: a signed-in user's notices (dispatches, warnings, supervision, closures) and the bell's count."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicgrid.deps import DbSession, UnitOfWorkRoute
from civicgrid.models import utcnow
from civicgrid.notify import inbox
from civicgrid.web.render import render
from civicgrid.web.session import CsrfForm, OptionalWebUser, WebUser

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


@router.get("/inbox")
def notices(
    request: Request,
    session: DbSession,
    user: WebUser,
    unread: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    assert user.user_id is not None
    items = inbox.inbox(session, user.user_id, unread_only=unread, limit=100)
    return render(
        request,
        "inbox.html",
        items=items,
        unread=inbox.unread_count(session, user.user_id),
        only_unread=unread,
    )


@router.post("/inbox/read")
def read_all(request: Request, session: DbSession, user: WebUser, form: CsrfForm) -> Response:
    assert user.user_id is not None
    ids = [int(str(v)) for v in form.getlist("id") if str(v).isdigit() and len(str(v)) < 10]
    inbox.mark_read(session, user.user_id, ids or None, utcnow())
    session.commit()
    return RedirectResponse("/inbox", status_code=303)


@router.get("/web/api/notifications/unread")
def unread_count(session: DbSession, user: OptionalWebUser) -> dict[str, int]:
    """The bell's number (0 when not signed in)."""
    if user is None or user.user_id is None:
        return {"unread": 0}
    return {"unread": inbox.unread_count(session, user.user_id)}
