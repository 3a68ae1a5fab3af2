"""Inbox notices for case events: a case-event subscriber (declared in ``notify/domain.py``).

Runs inside the transition's transaction, so a notice exists exactly when the action that caused it does.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import Case, CaseEvent, UserRole
from civicgrid.notify.inbox import notify_department, notify_user

SUPERVISION_TITLES = {"leader": "领导督办", "warning": "黄灯预警", "overdue": "红灯预警（已超期）"}


def on_case_event(session: Session, case: Case, event: CaseEvent) -> None:
    action, data, now = event.action, event.data or {}, event.created_at
    dept = case.department_id
    if action == "dispatch" and dept:
        notify_department(
            session, dept, case, "dispatched", f"新派遣案卷 {case.number}", case.description[:200], now
        )
    elif action == "check" and not data.get("passed") and dept:
        title = f"案卷 {case.number} 核查未通过，需返工"
        notify_department(session, dept, case, "rework", title, event.note, now)
    elif action == "close":
        _tell_reporters(session, case, event)
    elif action == "reopen" and dept:
        notify_department(session, dept, case, "reopened", f"案卷 {case.number} 重新派遣", event.note, now)
    elif action == "supervise":
        level = str(data.get("level"))
        title = f"{SUPERVISION_TITLES.get(level, '督办')}：案卷 {case.number}"
        if dept:
            notify_department(session, dept, case, f"supervise_{level}", title, event.note, now)
        if level == "overdue":
            for uid in session.scalars(select(UserRole.user_id).where(UserRole.role == "leader")):
                notify_user(session, uid, case, "supervise_overdue", title, event.note, now)


def _tell_reporters(session: Session, case: Case, event: CaseEvent) -> None:
    """The reporter of the case and of every case merged into it learn that it is closed."""
    reporters = {case.reporter_user_id}
    reporters.update(session.scalars(select(Case.reporter_user_id).where(Case.master_case_id == case.id)))
    title = f"您反映的问题（{case.number}）已处理结案"
    for uid in reporters:
        if uid is not None:
            notify_user(
                session, uid, case, "closed", title, "可凭案卷号查看处理结果并评价。", event.created_at
            )
