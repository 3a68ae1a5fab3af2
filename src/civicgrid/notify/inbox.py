"""Notifications: rows in a user's inbox. (Webhooks are posted by the sweeper job from these rows.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
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
