"""Builders for the supervision tests: a supervisor, a directive, an assigned task."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import SupervisionTask, User
from civicgrid.org.auth import principal_of
from civicgrid.org.roles import Principal
from civicgrid.org.service import create_user
from civicgrid.supervision import service
from civicgrid.supervision.tasks import transition

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on Monday 2 March 2026 in Shanghai

TEXT = """关于做好2026年民生实事的通知
各部门：
一、城乡一体化供水
（一）完成管网改造。年底前完成50公里。
（二）新建加压泵站。
二、改造老旧小区
"""


def supervisor(session: Session, username: str = "ducha") -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = create_user(session, username, "ducha-2026-pass", ["supervisor"], display_name="孙督查")
        session.flush()
    return principal_of(user)


def user(session: Session, username: str) -> Principal:
    u = session.scalar(select(User).where(User.username == username))
    assert u is not None, username
    return principal_of(u)


def directive(session: Session, text: str = TEXT) -> dict[str, SupervisionTask]:
    """Import ``text``; the tasks by their path of numbers, e.g. ``"一、/（一）"``."""
    _, tasks = service.import_directive(
        session, service.DirectiveIn("民生实事", "文件"), text, supervisor(session), now=NOW
    )
    by_id = {t.id: t for t in tasks}

    def path(t: SupervisionTask) -> str:
        return t.number if t.parent_id is None else f"{path(by_id[t.parent_id])}/{t.number}"

    return {path(t): t for t in tasks}


def assign(
    session: Session,
    task: SupervisionTask,
    lead: str = "SW",
    deadline: date = date(2026, 6, 30),
    now: datetime = NOW,
    **kw: Any,
) -> SupervisionTask:
    data = {"lead_unit": lead, "deadline": deadline.isoformat(), "leader": "钱副区长", **kw}
    transition(session, task, "assign", supervisor(session), data, now=now)
    return task
