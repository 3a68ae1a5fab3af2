"""What follows from a task's event, in the same transaction (a subscriber of the ``supervision_task``
workflow, declared in supervision/domain.py): inbox notices to the units and the supervisors (交办, 催办,
督办, 退办, 销号, 申请办结), and the roll-up of a parent whose children are all done."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.models import SupervisionTask, TaskEvent, User, UserRole
from civicgrid.notify.inbox import department_users, notify_user
from civicgrid.org.roles import SYSTEM

KINDS = {
    "assign": ("supervision_assign", "新的督办任务"),
    "urge": ("supervision_urge", "催办"),
    "supervise": ("supervision_supervise", "督办"),
    "return": ("supervision_return", "退办"),
    "accept": ("supervision_done", "已销号"),
    "extend": ("supervision_extend", "已延期"),
}


def on_task_event(session: Session, task: SupervisionTask, event: TaskEvent) -> None:
    if event.action in KINDS:
        kind, label = KINDS[event.action]
        units = [task.lead_unit_id] if event.action != "assign" else [task.lead_unit_id, *task.co_unit_ids]
        body = event.note or ""
        if task.deadline is not None:
            body = f"办结时限：{task.deadline.isoformat()}。{body}"
        for unit in units:
            if unit is None:
                continue
            for uid in department_users(session, unit, role="handler"):
                notify_user(
                    session,
                    uid,
                    None,
                    kind,
                    f"{label}：{task.number}{task.title}"[:200],
                    body,
                    event.created_at,
                )
    if event.action == "apply":
        for uid in supervisors(session):
            notify_user(
                session,
                uid,
                None,
                "supervision_apply",
                f"申请办结待审核：{task.number}{task.title}"[:200],
                event.note,
                event.created_at,
            )
    if event.action in ("accept", "roll_up") and task.parent_id is not None:
        _roll_up_parent(session, task, event)


def supervisors(session: Session) -> list[int]:
    q = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "supervisor", User.active.is_(True))
    )
    return list(session.scalars(q))


def _roll_up_parent(session: Session, task: SupervisionTask, event: TaskEvent) -> None:
    from civicgrid.supervision.tasks import transition

    parent = session.get(SupervisionTask, task.parent_id)
    if parent is None or parent.state == "done":
        return
    open_children = session.scalar(
        select(func.count(SupervisionTask.id)).where(
            SupervisionTask.parent_id == parent.id, SupervisionTask.state != "done"
        )
    )
    if open_children:
        return
    transition(session, parent, "roll_up", SYSTEM, {"note": "子任务全部销号"}, now=event.created_at)
