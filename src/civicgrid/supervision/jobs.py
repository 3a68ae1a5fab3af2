"""The ``task-colour`` job: recompute every open task's colour, keep the history of changes, and send 催办
when a task turns yellow or red (SPEC §13). Idempotent: it acts on the stored colour, not on a time window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import ColourChange, SupervisionTask, utcnow
from civicgrid.org.roles import SYSTEM
from civicgrid.supervision import colour
from civicgrid.supervision.service import colour_on
from civicgrid.supervision.tasks import local_day, transition


def recompute(session: Session, now: datetime) -> dict[str, int]:
    """Colour every assigned task for today; record each change; urge on a change to yellow or red."""
    today = local_day(now)
    changed = urged = 0
    q = select(SupervisionTask).where(SupervisionTask.state != "draft").order_by(SupervisionTask.id)
    for task in session.scalars(q).all():
        c = colour_on(task, today)
        if c.colour == task.colour:
            if c.reason != task.colour_reason:
                task.colour_reason = c.reason
            continue
        session.add(
            ColourChange(
                task_id=task.id,
                day=today,
                at=now,
                from_colour=task.colour,
                to_colour=c.colour,
                reason=c.reason,
            )
        )
        task.colour, task.colour_reason = c.colour, c.reason
        changed += 1
        if c.colour in (colour.YELLOW, colour.RED) and task.state in ("assigned", "doing"):
            transition(session, task, "urge", SYSTEM, {"note": f"{c.label}灯：{c.reason}"}, now=now)
            urged += 1
    session.flush()
    return {"changed": changed, "urged": urged}


def run_job() -> str:
    from civicgrid.db import unit_of_work

    with unit_of_work() as session:
        out = recompute(session, utcnow())
    return f"督办任务亮灯：{out['changed']} 项变化，催办 {out['urged']} 项"
