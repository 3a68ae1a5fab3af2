"""The supervision task's workflow as data, handed to the workflow engine: ``transition`` is the one function
that changes a task (SPEC §13).

交办 (assign, supervisor) → 签收 (sign, the lead unit) → 办理 with progress reports (report, the lead unit or
a co-unit) → 申请办结 (apply, the lead unit) → 审核: 销号 (accept) or 退办 (return, with a reason)
back to 办理. 延期 (extend) is asked only before the deadline and counted. 催办 (urge) and 督办 (supervise)
notify the units. A task with subtasks is not closed by itself: it is done (roll_up, by the system) when
all its children are. The notices and the roll-up follow from the events (supervision/notices.py, a
subscriber of this workflow).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select

from civicgrid.errors import IllegalTransition, InvalidInput, NotYourCase
from civicgrid.models import Department, SupervisionTask, TaskEvent
from civicgrid.org.roles import Principal
from civicgrid.security.chain import link_row
from civicgrid.settings import get_settings
from civicgrid.supervision import colour
from civicgrid.supervision.vocab import CADENCES, OPEN_STATES, STATE_LABELS
from civicgrid.workflow import engine
from civicgrid.workflow.engine import Ctx, rule

CHAIN = "supervision_tasks"  # a chain head's name is at most 20 characters
WORKFLOW = "supervision_task"
UNIT_ROLE = "handler"  # a unit's staff act on its tasks under their handler role


# --- the data each action takes -------------------------------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000)


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    target: str = Field(min_length=1, max_length=200)


class AssignData(_Data):
    lead_unit: str = Field(min_length=1, max_length=20, description="牵头单位（部门代码）")
    co_units: list[str] = Field(default_factory=list, max_length=30, description="配合单位（部门代码）")
    leader: str = Field(default="", max_length=100, description="分管领导")
    deadline: date
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=24)
    cadence: str | None = Field(default="monthly", description="weekly、monthly、quarterly 或不报")

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, v: str | None) -> str | None:
        if v is not None and v not in CADENCES:
            raise ValueError(f"报送周期应为 {'、'.join(CADENCES)} 之一")
        return v


class ReportData(_Data):
    percent: int = Field(ge=0, le=100)
    text: str = Field(min_length=1, max_length=4000)
    problems: str = Field(default="", max_length=2000)
    milestone: int | None = Field(default=None, ge=0, description="本次完成的节点（序号，从 0 起）")


class ApplyData(_Data):
    note: str = Field(min_length=1, max_length=2000, description="办结情况")


class ReturnData(_Data):
    note: str = Field(min_length=1, max_length=2000, description="退办理由")


class ExtendData(_Data):
    deadline: date
    note: str = Field(min_length=1, max_length=2000, description="延期理由")


ACTION_DATA: dict[str, type[BaseModel]] = {
    "assign": AssignData,
    "sign": _Data,
    "report": ReportData,
    "apply": ApplyData,
    "accept": _Data,
    "return": ReturnData,
    "extend": ExtendData,
    "urge": _Data,
    "supervise": _Data,
    "roll_up": _Data,
}

_OPEN = ("assigned", "doing", "applied")
RULES = {
    r.action: r
    for r in (
        rule("assign", "交办", "supervisor", {"draft"}, "assigned"),
        rule("sign", "签收", UNIT_ROLE, {"assigned"}, "doing"),
        rule("report", "报送进展", UNIT_ROLE, {"doing"}, None),
        rule("apply", "申请办结", UNIT_ROLE, {"doing"}, "applied"),
        rule("accept", "审核销号", "supervisor", {"applied"}, "done"),
        rule("return", "退办", "supervisor", {"applied"}, "doing"),
        rule("extend", "延期", f"{UNIT_ROLE} supervisor", {"assigned", "doing"}, None),
        rule("urge", "催办", "supervisor system", _OPEN, None),
        rule("supervise", "督办", "supervisor leader", _OPEN, None),
        rule("roll_up", "子任务全部销号后办结", "system", {"draft", *_OPEN}, "done"),
    )
}
ACTION_LABELS = {a: r.label for a, r in RULES.items()}


# --- effects --------------------------------------------------------------------------------------


@cache
def district_zone() -> ZoneInfo:
    """The district's zone, read once (``get_settings()`` builds the settings anew on every call)."""
    return ZoneInfo(get_settings().timezone)


def local_day(moment: datetime) -> date:
    return moment.astimezone(district_zone()).date()


def _lead_only(c: Ctx[SupervisionTask]) -> None:
    """Signing, asking to close and asking for more time are the lead unit's (a co-unit only reports)."""
    if c.role == UNIT_ROLE and c.actor.department_id != c.subject.lead_unit_id:
        raise NotYourCase("只有牵头单位可以执行此操作，配合单位可报送进展")


def _children(session: Any, task: SupervisionTask) -> tuple[int, int]:
    """(children, children done)."""
    total, done = session.execute(
        select(
            func.count(SupervisionTask.id),
            func.count(SupervisionTask.id).filter(SupervisionTask.state == "done"),
        ).where(SupervisionTask.parent_id == task.id)
    ).one()
    return int(total), int(done)


def _department(session: Any, code: str, field: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(f"没有这个单位：{code}", field=field)
    return dept


def _assign(c: Ctx[SupervisionTask]) -> str:
    d: AssignData = c.data
    today = local_day(c.now)
    if d.deadline < today:
        raise InvalidInput("办结时限不能早于今天", field="deadline")
    milestones = sorted(d.milestones, key=lambda m: m.date)
    if any(m.date > d.deadline for m in milestones):
        raise InvalidInput("节点日期不能晚于办结时限", field="milestones")
    lead = _department(c.session, d.lead_unit, "lead_unit")
    co = [
        _department(c.session, code, "co_units") for code in dict.fromkeys(d.co_units) if code != d.lead_unit
    ]
    t = c.subject
    t.lead_unit_id = lead.id
    t.co_unit_ids = [x.id for x in co]
    t.leader = d.leader
    t.deadline = d.deadline
    t.milestones = [{"date": m.date.isoformat(), "target": m.target, "met_on": None} for m in milestones]
    t.cadence = d.cadence
    t.assigned_at = c.now
    c.extra.update(lead_unit=lead.code, deadline=d.deadline.isoformat())
    return "assigned"


def _sign(c: Ctx[SupervisionTask]) -> str:
    _lead_only(c)
    c.subject.signed_at = c.now
    return "doing"


def _report(c: Ctx[SupervisionTask]) -> str:
    from civicgrid.models import ProgressReport

    d: ReportData = c.data
    t = c.subject
    today = local_day(c.now)
    due = colour.report_due(
        t.cadence, t.last_report_on or (local_day(t.assigned_at) if t.assigned_at else None)
    )
    late = due is not None and today > due
    if d.milestone is not None:
        if d.milestone >= len(t.milestones):
            raise InvalidInput("没有这个节点", field="milestone")
        if t.milestones[d.milestone].get("met_on"):
            raise InvalidInput("该节点已经完成", field="milestone")
        milestones = [dict(m) for m in t.milestones]
        milestones[d.milestone]["met_on"] = today.isoformat()
        t.milestones = milestones
        c.extra["milestone"] = d.milestone
    c.session.add(
        ProgressReport(
            task_id=t.id,
            department_id=c.actor.department_id,
            user_id=c.actor.user_id,
            at=c.now,
            percent=d.percent,
            text=d.text,
            problems=d.problems,
            late=late,
        )
    )
    if c.actor.department_id == t.lead_unit_id or c.role != UNIT_ROLE:
        t.percent = d.percent
    t.last_report_on = today
    c.extra.update(percent=d.percent, late=late)
    return t.state


def _apply(c: Ctx[SupervisionTask]) -> str:
    _lead_only(c)
    total, _ = _children(c.session, c.subject)
    if total:
        raise IllegalTransition("有子任务的任务在子任务全部销号后自动办结，不能单独申请办结")
    c.subject.applied_at = c.now
    return "applied"


def _accept(c: Ctx[SupervisionTask]) -> str:
    t = c.subject
    t.done_at, t.done_on, t.percent = c.now, local_day(c.now), 100
    return "done"


def _return(c: Ctx[SupervisionTask]) -> str:
    c.subject.returns += 1
    c.subject.applied_at = None
    c.extra["returns"] = c.subject.returns
    return "doing"


def _extend(c: Ctx[SupervisionTask]) -> str:
    _lead_only(c)
    d: ExtendData = c.data
    t = c.subject
    if t.deadline is None or local_day(c.now) > t.deadline:
        raise IllegalTransition("已超过办结时限，不能再申请延期（延期须在时限前提出）")
    if d.deadline <= t.deadline:
        raise InvalidInput("新的办结时限应晚于原时限", field="deadline")
    c.extra.update(old_deadline=t.deadline.isoformat(), deadline=d.deadline.isoformat())
    t.deadline = d.deadline
    t.extensions += 1
    return t.state


def _notice(c: Ctx[SupervisionTask]) -> str:
    return c.subject.state


def _roll_up(c: Ctx[SupervisionTask]) -> str:
    total, done = _children(c.session, c.subject)
    if not total or done < total:
        raise IllegalTransition("子任务尚未全部销号")
    return _accept(c)


EFFECTS: dict[str, Callable[[Ctx[Any]], str]] = {
    "assign": _assign,
    "sign": _sign,
    "report": _report,
    "apply": _apply,
    "accept": _accept,
    "return": _return,
    "extend": _extend,
    "urge": _notice,
    "supervise": _notice,
    "roll_up": _roll_up,
}


# --- reach and the event record -------------------------------------------------------------------


def reach(actor: Principal, role: str, task: SupervisionTask) -> bool:
    """The supervisors, leaders and the system reach every task; a unit's staff their unit's (lead or co)."""
    if role in ("supervisor", "leader", "system", "admin"):
        return True
    if role == UNIT_ROLE:
        dept = actor.department_id
        return dept is not None and (dept == task.lead_unit_id or dept in (task.co_unit_ids or []))
    return False


def event_payload(ev: TaskEvent) -> dict[str, Any]:
    """The fields an event's link covers."""
    return {
        "task_id": ev.task_id,
        "action": ev.action,
        "actor_user_id": ev.actor_user_id,
        "actor_role": ev.actor_role,
        "from_state": ev.from_state,
        "to_state": ev.to_state,
        "note": ev.note,
        "data": ev.data,
        "created_at": ev.created_at.isoformat(),
    }


def _record(
    session: Any,
    task: SupervisionTask,
    *,
    action: str,
    actor: Principal,
    role: str,
    from_state: str,
    to_state: str,
    now: datetime,
    payload: Any,
    extra: dict[str, Any],
) -> TaskEvent:
    ev = TaskEvent(
        task_id=task.id,
        action=action,
        actor_user_id=actor.user_id,
        actor_role=role,
        actor_label=actor.label,
        from_state=from_state,
        to_state=to_state,
        note=payload.note,
        data=extra,
        created_at=now,
    )
    link_row(session, CHAIN, ev, event_payload(ev))
    session.add(ev)
    task.updated_at = now
    return ev


def chain_rows(session: Any) -> tuple[str, Any]:
    """The task-event chain for ``audit verify`` (declared in supervision/domain.py)."""
    rows = session.scalars(select(TaskEvent).order_by(TaskEvent.chain_seq).execution_options(yield_per=2000))
    return CHAIN, ((e.chain_seq, e.prev_hash, e.hash, e.link_alg, event_payload(e)) for e in rows)


TASK_WORKFLOW: engine.Workflow[SupervisionTask] = engine.Workflow(
    name=WORKFLOW,
    subject_label="督办任务",
    state_labels=STATE_LABELS,
    rules=RULES,
    data=ACTION_DATA,
    effects=EFFECTS,
    reach=reach,
    record=_record,
)

assert set(_OPEN) == OPEN_STATES


def transition(
    session: Any,
    task: SupervisionTask,
    action: str,
    actor: Principal,
    data: BaseModel | dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> TaskEvent:
    """The one function that changes a task's state (raises before writing anything when refused)."""
    ev: TaskEvent = TASK_WORKFLOW.transition(session, task, action, actor, data, now=now)
    return ev


def allowed_actions(actor: Principal, task: SupervisionTask) -> list[str]:
    return TASK_WORKFLOW.allowed_actions(actor, task)
