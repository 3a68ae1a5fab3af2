"""What each action does to a case, besides the state change. Called only by ``transition``.

Each effect validates first and mutates after, and returns the state the case ends in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases import actions as A
from civicgrid.cases.events import append_event
from civicgrid.cases.states import OPEN, State
from civicgrid.catalog.routing import route
from civicgrid.errors import IllegalTransition, InvalidInput, NotFound, NotYourCase
from civicgrid.models import Case, Category, Department, Supervision
from civicgrid.org.roles import Principal
from civicgrid.security import codes
from civicgrid.sla import deadlines
from civicgrid.sla.clock import parse_limit


@dataclass
class Ctx:
    session: Session
    case: Case
    actor: Principal
    role: str
    now: datetime
    data: Any  # the action's validated ActionData
    extra: dict[str, Any]  # facts recorded in the event's data


Effect = Callable[[Ctx], State]


def _category(session: Session, code: str) -> Category:
    cat = session.get(Category, code)
    if cat is None or not cat.active:
        raise InvalidInput(f"未知的类别代码：{code}")
    return cat


def send_verify(c: Ctx) -> State:
    c.case.verify_sent_at = c.now
    c.case.stage_due_at = deadlines.stage_due(c.now, deadlines.VERIFY_LIMIT)
    return State.verifying


def verify(c: Ctx) -> State:
    c.case.verified_at = c.now
    c.case.verify_confirmed = c.data.confirmed
    c.case.stage_due_at = None
    c.extra["confirmed"] = c.data.confirmed
    return State.verified


def classify(c: Ctx) -> State:
    cat = _category(c.session, c.data.category_code)
    c.extra.update({"from_category": c.case.category_code, "category_code": cat.code})
    c.case.category_code = cat.code
    c.case.urgent = cat.urgent
    c.case.classification_confidence = 1.0
    return State(c.case.state)


def register(c: Ctx) -> State:
    if c.data.category_code and c.data.category_code != c.case.category_code:
        cat = _category(c.session, c.data.category_code)
        c.extra.update({"from_category": c.case.category_code, "category_code": cat.code})
        c.case.category_code = cat.code
        c.case.urgent = cat.urgent
    c.case.registered_at = c.now
    c.case.stage_due_at = deadlines.register_dispatch_due(c.case.received_at, c.case.urgent)
    return State.registered


def void(c: Ctx) -> State:
    c.case.voided_at = c.now
    c.case.stage_due_at = None
    return State.voided


def merge(c: Ctx) -> State:
    s, case = c.session, c.case
    if c.data.master_case_id is not None:
        master = s.get(Case, c.data.master_case_id)
    elif c.data.master_number:
        master = s.scalar(select(Case).where(Case.number == c.data.master_number))
    else:
        raise InvalidInput("并案需要指定主案卷（master_case_id 或 master_number）")
    if master is None:
        raise NotFound("主案卷不存在")
    if master.id == case.id or master.state not in OPEN or master.state == State.merged:
        raise InvalidInput("主案卷必须是另一件未结案、未并案的案卷")
    case.master_case_id = master.id
    case.merged_at = c.now
    case.stage_due_at = None
    master.report_count += 1
    c.extra["master_number"] = master.number
    append_event(
        s,
        master,
        action="merge_in",
        actor=c.actor,
        role=c.role,
        from_state=master.state,
        to_state=master.state,
        now=c.now,
        note=f"并入重复上报 {case.number}",
        data={"case_number": case.number},
    )
    return State.merged


def unmerge(c: Ctx) -> State:
    master = c.session.get(Case, c.case.master_case_id) if c.case.master_case_id else None
    if master is not None:
        master.report_count = max(1, master.report_count - 1)
        c.extra["master_number"] = master.number
        append_event(
            c.session,
            master,
            action="unmerge_out",
            actor=c.actor,
            role=c.role,
            from_state=master.state,
            to_state=master.state,
            now=c.now,
            note=f"撤出并案 {c.case.number}",
            data={"case_number": c.case.number},
        )
    c.case.master_case_id = None
    c.case.merged_at = None
    return State.received


def dispatch(c: Ctx) -> State:
    s, case = c.session, c.case
    cat = _category(s, case.category_code)
    if c.data.department_code:
        dept = s.scalar(select(Department).where(Department.code == c.data.department_code))
        if dept is None or not dept.active:
            raise InvalidInput(f"未知的处置部门代码：{c.data.department_code}")
    else:
        dept = route(
            s, cat, grid_code=case.grid_code, community_code=case.community_code, street_code=case.street_code
        )
        if dept is None:
            raise InvalidInput("没有匹配的派遣规则，请指定处置部门（department_code）")
    first = case.dispatched_at is None
    case.department_id = dept.id
    case.last_dispatched_at = c.now
    if first:
        case.dispatched_at = c.now
    # The disposal clock starts at dispatch; a re-dispatch after a wrong dispatch gives the new department a
    # fresh limit.
    if first or case.state == State.returned:
        case.due_at = deadlines.disposal_due(c.now, cat.limit_text)
    case.stage_due_at = None
    case.warning_level = 0
    c.extra.update({"department_code": dept.code, "department_name": dept.name, "due_at": case.due_at})
    return State.dispatched


def sign(c: Ctx) -> State:
    c.case.signed_at = c.now
    return State.processing


def return_(c: Ctx) -> State:
    c.extra["department_id"] = c.case.department_id
    c.case.department_id = None
    c.case.return_count += 1
    c.case.signed_at = None
    return State.returned


def feedback(c: Ctx) -> State:
    c.case.feedback_at = c.now
    return State.feedback


def extend(c: Ctx) -> State:
    limit = parse_limit(c.data.limit)
    c.case.extension_requested_limit = str(limit)
    c.case.extension_reason = c.data.note
    c.extra["limit"] = str(limit)
    return State(c.case.state)


def approve_extension(c: Ctx) -> State:
    case = c.case
    limit = case.extension_requested_limit or ""
    c.extra.update({"approved": c.data.approved, "limit": limit})
    if c.data.approved and case.due_at is not None:
        case.due_at = deadlines.disposal_due(case.due_at, limit)
        case.extension_count += 1
        case.warning_level = 0
        c.extra["due_at"] = case.due_at
    case.extension_requested_limit = None
    case.extension_reason = None
    return State(case.state)


def send_check(c: Ctx) -> State:
    c.case.check_sent_at = c.now
    c.case.stage_due_at = deadlines.stage_due(c.now, deadlines.CHECK_LIMIT)
    return State.checking


def check(c: Ctx) -> State:
    c.case.checked_at = c.now
    c.case.stage_due_at = None
    c.extra["passed"] = c.data.passed
    if c.data.passed:
        return State.checked
    # 返工: back to the same department; the original due time still stands.
    c.case.rework_count += 1
    c.case.last_dispatched_at = c.now
    c.case.signed_at = None
    return State.dispatched


def close(c: Ctx) -> State:
    case = c.case
    if c.data.special:
        if not c.data.note:
            raise InvalidInput("特殊结案必须填写说明")
        case.close_type = "special"
    elif case.state != State.checked:
        raise IllegalTransition("只有核查通过的案卷才能正常结案；如需特殊结案请选择特殊结案并填写说明")
    else:
        # 按期 is judged on the department's disposal (its last feedback) against the due time, extensions
        # included; the command center's own check/close stages are measured separately (按期核查).
        done = case.feedback_at or c.now
        case.close_type = "overdue" if case.due_at is not None and done > case.due_at else "normal"
    case.closed_at = c.now
    case.stage_due_at = None
    c.extra["close_type"] = case.close_type
    return State.closed


def hold(c: Ctx) -> State:
    c.case.held = True
    c.case.held_at = c.now
    c.case.hold_reason = c.data.note
    c.case.hold_review_on = c.data.review_on.isoformat() if c.data.review_on else None
    return State(c.case.state)


def release(c: Ctx) -> State:
    c.case.held = False
    c.case.hold_review_on = None
    return State(c.case.state)


def reopen(c: Ctx) -> State:
    case = c.case
    cat = _category(c.session, case.category_code)
    case.reopen_count += 1
    case.closed_at = None
    case.close_type = None
    case.signed_at = None
    case.last_dispatched_at = c.now
    case.due_at = deadlines.disposal_due(c.now, cat.limit_text)
    case.warning_level = 0
    case.rating = case.rating_text = case.rated_at = None
    c.extra["due_at"] = case.due_at
    return State.dispatched


def rate(c: Ctx) -> State:
    case = c.case
    # An anonymous rater's code has passed the caller's throttle (cases/tracking.py); this is the last word.
    if c.actor.user_id is None and not codes.opens(case.query_code_hash, c.data.query_code):
        raise NotYourCase("查询码不正确，无法评价该案卷")
    case.rating = c.data.rating
    case.rating_text = c.data.note
    case.rated_at = c.now
    c.extra["rating"] = c.data.rating
    return State.closed


SWEEP_LEVELS = {"warning": 1, "overdue": 2}


def supervise(c: Ctx) -> State:
    """督办 by a leader (level ``leader``), or the SLA sweeper's 预警 at 黄灯 (warning) / 红灯 (overdue) —
    once per case, level and due time."""
    case, level = c.case, c.data.level
    if level != "leader" and c.role != "system":
        raise InvalidInput("黄灯、红灯预警由系统自动发出")
    dedupe = (
        f"{case.id}:{level}:{case.due_at.isoformat() if case.due_at else ''}" if level != "leader" else None
    )
    c.session.add(
        Supervision(
            case_id=case.id,
            level=level,
            note=c.data.note,
            department_id=case.department_id,
            created_by=c.actor.user_id,
            created_at=c.now,
            dedupe_key=dedupe,
        )
    )
    if level == "leader":
        case.supervised = True
    else:
        case.warning_level = max(case.warning_level, SWEEP_LEVELS[level])
    c.extra["level"] = level
    return State(case.state)


EFFECTS: dict[str, Effect] = {
    "send_verify": send_verify,
    "verify": verify,
    "classify": classify,
    "register": register,
    "void": void,
    "merge": merge,
    "unmerge": unmerge,
    "dispatch": dispatch,
    "sign": sign,
    "return": return_,
    "feedback": feedback,
    "extend": extend,
    "approve_extension": approve_extension,
    "send_check": send_check,
    "check": check,
    "close": close,
    "hold": hold,
    "release": release,
    "reopen": reopen,
    "rate": rate,
    "supervise": supervise,
}
assert set(EFFECTS) == set(A.ACTION_DATA)
