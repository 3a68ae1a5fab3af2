"""Notifications: rows in a user's inbox, written by case-event subscribers and read on the web (the bell)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from civicgrid.models import Case, Notification, User, UserRole


def notify_user(
    session: Session, user_id: int | None, case: Case | None, kind: str, title: str, body: str, now: datetime
) -> Notification:
    n = Notification(
        user_id=user_id, case_id=case.id if case else None, kind=kind, title=title, body=body, created_at=now
    )
    session.add(n)
    return n


def department_users(session: Session, department_id: int, role: str | None = None) -> list[int]:
    q = select(User.id).where(User.department_id == department_id, User.active.is_(True))
    if role:
        q = q.join(UserRole, UserRole.user_id == User.id).where(UserRole.role == role)
    return list(session.scalars(q))


def notify_department(
    session: Session, department_id: int, case: Case, kind: str, title: str, body: str, now: datetime
) -> int:
    users = department_users(session, department_id)
    for uid in users:
        notify_user(session, uid, case, kind, title, body, now)
    return len(users)


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return list(
        session.scalars(q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    )


def mark_read(session: Session, user_id: int, ids: list[int] | None, now: datetime) -> int:
    """Mark the user's notices read (the ones named, or all); returns how many changed."""
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))
    return int(session.execute(q.values(read_at=now)).rowcount or 0)  # type: ignore[attr-defined]
