"""The task-colour job: recomputes colours, keeps the history of changes, urges on yellow and red,
idempotently."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import ColourChange, TaskEvent
from civicgrid.supervision import service
from civicgrid.supervision.jobs import recompute

from .helpers import NOW, assign, directive


def test_colours_history_and_urges(session: Session) -> None:
    tasks = directive(session)
    t = assign(session, tasks["二、"], lead="ZJ", deadline=date(2026, 3, 20), cadence=None)
    assert recompute(session, NOW) == {"changed": 1, "urged": 0}
    assert t.colour == "green"
    assert recompute(session, NOW + timedelta(days=1)) == {"changed": 0, "urged": 0}  # idempotent
    assert recompute(session, NOW + timedelta(days=15)) == {"changed": 1, "urged": 1}  # 17 March: yellow
    assert recompute(session, NOW + timedelta(days=19)) == {"changed": 1, "urged": 1}  # 21 March: red
    history = session.scalars(
        select(ColourChange).where(ColourChange.task_id == t.id).order_by(ColourChange.id)
    ).all()
    assert [(h.day, h.from_colour, h.to_colour) for h in history] == [
        (date(2026, 3, 2), "", "green"),
        (date(2026, 3, 17), "green", "yellow"),
        (date(2026, 3, 21), "yellow", "red"),
    ]
    urges = session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == t.id, TaskEvent.action == "urge").order_by(TaskEvent.id)
    ).all()
    assert [(e.actor_role, e.note) for e in urges] == [
        ("system", "黄灯：距办结时限 2026-03-20 不足 3 天"),
        ("system", "红灯：已超过办结时限 2026-03-20"),
    ]
    assert tasks["一、"].colour == ""  # 待交办 tasks are not coloured
    summary = service.directive_summary(session, t.directive_id, date(2026, 3, 21))
    assert summary == {"red": 1, "yellow": 0, "green": 0, "done": 0, "": 3}
    assert summary == service.tree(session, t.directive_id, date(2026, 3, 21))["summary"]
