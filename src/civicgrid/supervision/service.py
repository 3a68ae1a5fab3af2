"""Directives and their task trees: import a document, read a tree with its colours, a unit's tasks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.errors import InvalidInput, NotFound
from civicgrid.models import Department, Directive, SupervisionTask
from civicgrid.org.roles import Principal
from civicgrid.supervision import colour, outline
from civicgrid.supervision.settings import get_supervision_settings
from civicgrid.supervision.tasks import local_day
from civicgrid.supervision.vocab import CADENCES, SOURCES, STATE_LABELS

MAX_TEXT = 200_000  # characters of one document
MAX_TASKS = 2_000  # nodes of one document's tree


@dataclass(frozen=True)
class DirectiveIn:
    title: str
    source: str = "文件"
    issued_by: str = ""
    issued_on: date | None = None


def check_meta(meta: DirectiveIn) -> None:
    if not meta.title.strip() or len(meta.title) > 200:
        raise InvalidInput("请给出督办事项的标题（200 字以内）", field="title")
    if meta.source not in SOURCES:
        raise InvalidInput(f"来源应为 {'、'.join(SOURCES)} 之一", field="source")
    if len(meta.issued_by) > 100:
        raise InvalidInput("交办领导或单位名称过长（100 字以内）", field="issued_by")


def parse_text(text: str) -> list[outline.Node]:
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"文件过长（{MAX_TEXT} 字以内）", field="text")
    nodes = outline.parse(text)
    if not nodes:
        raise InvalidInput(
            "没有识别出任务：请检查文件是否按“一、（一）1.（1）”或“一是、一要、第一”分条", field="text"
        )
    if outline.count(nodes) > MAX_TASKS:
        raise InvalidInput(f"任务过多（一个文件 {MAX_TASKS} 条以内）", field="text")
    return nodes


def import_directive(
    session: Session, meta: DirectiveIn, text: str, actor: Principal, *, now: datetime
) -> tuple[Directive, list[SupervisionTask]]:
    """Store the document and its tree (every task 待交办); checks everything before writing."""
    check_meta(meta)
    nodes = parse_text(text)
    directive = Directive(
        title=meta.title.strip(),
        source=meta.source,
        issued_by=meta.issued_by,
        issued_on=meta.issued_on,
        text=text,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(directive)
    session.flush()
    made: list[SupervisionTask] = []

    def add(items: Sequence[outline.Node], parent: SupervisionTask | None) -> None:
        for i, node in enumerate(items):
            task = SupervisionTask(
                directive_id=directive.id,
                parent_id=parent.id if parent else None,
                position=i,
                number=node.number[:16],
                title=node.title[:500] or node.number,
                body=node.body,
                state="draft",
                created_at=now,
                updated_at=now,
                co_unit_ids=[],
                milestones=[],
            )
            session.add(task)
            made.append(task)
            if node.children:
                session.flush()
                add(node.children, task)

    add(nodes, None)
    session.flush()
    return directive, made


def get_directive(session: Session, directive_id: int) -> Directive:
    d = session.get(Directive, directive_id)
    if d is None:
        raise NotFound("没有这个督办事项")
    return d


def get_task(session: Session, task_id: int) -> SupervisionTask:
    t = session.get(SupervisionTask, task_id)
    if t is None:
        raise NotFound("没有这个督办任务")
    return t


def directives(session: Session) -> list[Directive]:
    return list(session.scalars(select(Directive).order_by(Directive.created_at.desc(), Directive.id.desc())))


# --- colours --------------------------------------------------------------------------------------


# What the colour depends on, as columns: a summary reads these alone, not whole rows.
FACT_COLUMNS = (
    SupervisionTask.state,
    SupervisionTask.deadline,
    SupervisionTask.milestones,
    SupervisionTask.cadence,
    SupervisionTask.assigned_at,
    SupervisionTask.last_report_on,
    SupervisionTask.applied_at,
)


def facts_from(
    state: str,
    deadline: date | None,
    milestones: list[Any] | None,
    cadence: str | None,
    assigned_at: datetime | None,
    last_report_on: date | None,
    applied_at: datetime | None,
) -> colour.TaskFacts:
    return colour.TaskFacts(
        state=state,
        deadline=deadline,
        milestones=tuple(
            colour.Milestone(
                date.fromisoformat(m["date"]),
                m.get("target", ""),
                date.fromisoformat(m["met_on"]) if m.get("met_on") else None,
            )
            for m in milestones or []
        ),
        cadence=cadence,
        assigned_on=local_day(assigned_at) if assigned_at else None,
        last_report_on=last_report_on,
        applied_on=local_day(applied_at) if applied_at else None,
    )


def facts_of(task: SupervisionTask) -> colour.TaskFacts:
    return facts_from(
        task.state,
        task.deadline,
        task.milestones,
        task.cadence,
        task.assigned_at,
        task.last_report_on,
        task.applied_at,
    )


def directive_summary(session: Session, directive_id: int, today: date) -> dict[str, int]:
    """Counts by colour of a directive's tasks for ``today`` (the 红黄绿灯 summary), from their columns."""
    warn = get_supervision_settings().warn_days
    rows = session.execute(select(*FACT_COLUMNS).where(SupervisionTask.directive_id == directive_id))
    return colour.summary([colour.colour_of(facts_from(*row), today, warn).colour for row in rows])


def colour_on(task: SupervisionTask, day: date) -> colour.Colour:
    return colour.colour_of(facts_of(task), day, get_supervision_settings().warn_days)


# --- presenting -----------------------------------------------------------------------------------


def unit_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in session.scalars(select(Department))}


def present_task(task: SupervisionTask, names: dict[int, str], today: date) -> dict[str, Any]:
    c = colour_on(task, today)
    return {
        "id": task.id,
        "directive_id": task.directive_id,
        "parent_id": task.parent_id,
        "number": task.number,
        "title": task.title,
        "body": task.body,
        "state": task.state,
        "state_label": STATE_LABELS[task.state],
        "colour": c.colour,
        "colour_label": c.label,
        "colour_reason": c.reason,
        "lead_unit": names.get(task.lead_unit_id) if task.lead_unit_id else None,
        "co_units": [names.get(i, str(i)) for i in task.co_unit_ids or []],
        "leader": task.leader,
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "milestones": task.milestones or [],
        "cadence": task.cadence,
        "cadence_label": CADENCES.get(task.cadence or "", "不报"),
        "percent": task.percent,
        "extensions": task.extensions,
        "returns": task.returns,
    }


def tree(session: Session, directive_id: int, today: date) -> dict[str, Any]:
    """The directive with its task tree (each node coloured for ``today``) and the colour summary."""
    d = get_directive(session, directive_id)
    tasks = list(
        session.scalars(
            select(SupervisionTask)
            .where(SupervisionTask.directive_id == d.id)
            .order_by(SupervisionTask.parent_id, SupervisionTask.position, SupervisionTask.id)
        )
    )
    names = unit_names(session)
    by_parent: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    rows = {}
    for t in tasks:
        row = present_task(t, names, today)
        rows[t.id] = row
        by_parent[t.parent_id].append(row)
    for tid, row in rows.items():
        row["children"] = by_parent.get(tid, [])
    return {
        "id": d.id,
        "title": d.title,
        "source": d.source,
        "issued_by": d.issued_by,
        "issued_on": d.issued_on.isoformat() if d.issued_on else None,
        "summary": colour.summary([r["colour"] for r in rows.values()]),
        "tasks": by_parent.get(None, []),
    }


def unit_tasks(session: Session, actor: Principal, today: date) -> list[dict[str, Any]]:
    """A unit's open tasks (lead or co-unit), most urgent first: the unit's 我的任务."""
    if actor.department_id is None:
        return []
    dept = actor.department_id
    q = select(SupervisionTask).where(SupervisionTask.state.in_(("assigned", "doing", "applied")))
    tasks = [t for t in session.scalars(q) if t.lead_unit_id == dept or dept in (t.co_unit_ids or [])]
    names = unit_names(session)
    rank = {colour.RED: 0, colour.YELLOW: 1, colour.GREEN: 2}
    rows = [present_task(t, names, today) for t in tasks]
    for row, t in zip(rows, tasks, strict=True):
        row["role"] = "牵头" if t.lead_unit_id == dept else "配合"
    rows.sort(key=lambda r: (rank.get(r["colour"], 3), r["deadline"] or "9999", r["id"]))
    return rows


def colour_summary(tasks: Iterable[SupervisionTask], today: date) -> dict[str, int]:
    warn = get_supervision_settings().warn_days
    return colour.summary([colour.colour_of(facts_of(t), today, warn).colour for t in tasks])
