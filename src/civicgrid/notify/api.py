"""Notifications for their users (the bell) and the outbox for admins: JSON routes."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from civicgrid.deps import DbSession, RowId, UnitOfWorkRoute
from civicgrid.models import utcnow
from civicgrid.notify import inbox, outbox
from civicgrid.org.auth import AdminUser, CurrentUser

router = APIRouter(prefix="/api/v1", tags=["通知 notify"], route_class=UnitOfWorkRoute)


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    case_id: int | None
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    unread: int = Field(description="未读条数")
    items: list[NotificationOut]


class MarkRead(BaseModel):
    ids: list[int] | None = Field(default=None, max_length=500, description="要标记已读的通知；不填则全部")


class OutboxOut(BaseModel):
    id: int
    kind: str
    target: str
    case_id: int | None
    created_at: datetime
    attempts: int
    next_at: datetime
    last_error: str | None


class OutboxSummary(BaseModel):
    pending: int
    failing: int
    oldest_pending_s: float
    items: list[OutboxOut]


@router.get("/notifications", response_model=Inbox, summary="我的通知（未读数与最近的通知）")
def my_notifications(
    session: DbSession, user: CurrentUser, unread: bool = Query(False, description="只看未读")
) -> Inbox:
    if user.user_id is None:
        return Inbox(unread=0, items=[])
    rows = inbox.inbox(session, user.user_id, unread_only=unread)
    return Inbox(
        unread=inbox.unread_count(session, user.user_id),
        items=[NotificationOut.model_validate(n, from_attributes=True) for n in rows],
    )


@router.post("/notifications/read", summary="标记通知为已读")
def mark_read(session: DbSession, user: CurrentUser, body: MarkRead) -> dict[str, int]:
    if user.user_id is None:
        return {"marked": 0}
    return {"marked": inbox.mark_read(session, user.user_id, body.ids, utcnow())}


@router.get("/outbox", response_model=OutboxSummary, summary="未投递的外发消息（管理员）")
def undelivered(
    session: DbSession, _admin: AdminUser, failing: bool = Query(False, description="只看多次失败的")
) -> OutboxSummary:
    st = outbox.stats(session)
    rows = outbox.undelivered(session, failing_only=failing)
    return OutboxSummary(
        pending=st.pending,
        failing=st.failing,
        oldest_pending_s=st.oldest_pending_s,
        items=[OutboxOut.model_validate(r, from_attributes=True) for r in rows],
    )


@router.post("/outbox/{msg_id}/retry", response_model=OutboxOut, summary="立即重试一条未投递的消息（管理员）")
def retry(session: DbSession, _admin: AdminUser, msg_id: RowId) -> OutboxOut:
    return OutboxOut.model_validate(outbox.retry_now(session, msg_id), from_attributes=True)
