"""The task workflow's rules (SPEC §13): 交办 → 签收 → 办理 → 申请办结 → 销号 / 退办; 延期; roll-up;
notices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.errors import Forbidden, IllegalTransition, InvalidInput, NotYourCase
from civicgrid.models import ChainHead, Notification, ProgressReport, TaskEvent
from civicgrid.org.roles import SYSTEM
from civicgrid.security.chain import verify_rows
from civicgrid.supervision.tasks import allowed_actions, chain_rows, transition

from .helpers import NOW, assign, directive, supervisor, user


def events(session: Session, task_id: int) -> list[str]:
    q = select(TaskEvent.action).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list(session.scalars(q))


def test_the_whole_path_with_a_return(session: Session) -> None:
    tasks = directive(session)
    t = assign(
        session,
        tasks["一、/（一）"],
        lead="SW",
        co_units=["GS"],
        milestones=[{"date": "2026-04-30", "target": "完成设计"}],
        cadence="monthly",
    )
    assert (t.state, t.deadline, t.leader) == ("assigned", date(2026, 6, 30), "钱副区长")
    sw, gs, dc = user(session, "handler_sw"), user(session, "handler_gs"), supervisor(session)

    with pytest.raises(NotYourCase):  # a co-unit does not sign for the task
        transition(session, t, "sign", gs, now=NOW)
    with pytest.raises(NotYourCase):  # another unit does not reach it at all
        transition(session, t, "sign", user(session, "handler_zj"), now=NOW)
    with pytest.raises(Forbidden):  # the supervisor does not sign for the unit
        transition(session, t, "sign", dc, now=NOW)
    transition(session, t, "sign", sw, now=NOW)
    assert t.state == "doing"

    later = NOW + timedelta(days=10)
    transition(session, t, "report", sw, {"percent": 40, "text": "完成设计招标", "milestone": 0}, now=later)
    transition(
        session,
        t,
        "report",
        gs,
        {"percent": 10, "text": "配合提供管网资料", "problems": "资料不全"},
        now=later,
    )
    assert t.percent == 40  # the lead unit's figure, not the co-unit's
    assert t.milestones[0]["met_on"] == "2026-03-12"
    assert session.scalar(select(func.count()).where(ProgressReport.task_id == t.id)) == 2

    transition(session, t, "apply", sw, {"note": "已完成"}, now=later)
    assert t.state == "applied"
    with pytest.raises(InvalidInput):  # 退办 needs a reason
        transition(session, t, "return", dc, {}, now=later)
    transition(session, t, "return", dc, {"note": "验收资料不全"}, now=later)
    assert (t.state, t.returns) == ("doing", 1)
    transition(session, t, "apply", sw, {"note": "补齐资料"}, now=later)
    transition(session, t, "accept", dc, now=later)
    assert (t.state, t.percent, t.done_on) == ("done", 100, date(2026, 3, 12))
    assert events(session, t.id) == [
        "assign",
        "sign",
        "report",
        "report",
        "apply",
        "return",
        "apply",
        "accept",
    ]
    with pytest.raises(IllegalTransition):
        transition(session, t, "return", dc, {"note": "再退"}, now=later)

    # every event is linked into its own hash chain, which verifies
    session.flush()
    name, rows = chain_rows(session)
    head = session.get(ChainHead, name)
    assert verify_rows(name, list(rows), head) == []


def test_refusals_write_nothing(session: Session) -> None:
    tasks = directive(session)
    t = tasks["二、"]
    dc = supervisor(session)
    with pytest.raises(InvalidInput):
        assign(session, t, lead="NOPE")
    with pytest.raises(InvalidInput):  # a deadline in the past
        assign(session, t, deadline=date(2026, 3, 1))
    with pytest.raises(InvalidInput):  # a milestone after the deadline
        assign(session, t, milestones=[{"date": "2026-07-01", "target": "x"}])
    with pytest.raises(InvalidInput):
        assign(session, t, cadence="daily")
    assert (t.state, t.lead_unit_id, events(session, t.id)) == ("draft", None, [])
    with pytest.raises(IllegalTransition):  # not assigned yet
        transition(session, t, "urge", dc, now=NOW)


def test_extension_only_before_the_deadline_and_counted(session: Session) -> None:
    tasks = directive(session)
    t = assign(session, tasks["二、"], lead="ZJ", deadline=date(2026, 3, 20))
    zj = user(session, "handler_zj")
    transition(session, t, "sign", zj, now=NOW)
    with pytest.raises(InvalidInput):  # a reason is needed
        transition(session, t, "extend", zj, {"deadline": "2026-04-30"}, now=NOW)
    with pytest.raises(InvalidInput):  # the new deadline must be later
        transition(session, t, "extend", zj, {"deadline": "2026-03-10", "note": "x"}, now=NOW)
    on_the_day = NOW + timedelta(days=18)  # 20 March, the deadline itself
    transition(session, t, "extend", zj, {"deadline": "2026-04-30", "note": "征地未完成"}, now=on_the_day)
    assert (t.deadline, t.extensions) == (date(2026, 4, 30), 1)
    transition(session, t, "extend", zj, {"deadline": "2026-05-31", "note": "再延"}, now=on_the_day)
    assert t.extensions == 2
    after = NOW + timedelta(days=91)  # 1 June: the deadline has passed
    with pytest.raises(IllegalTransition):
        transition(session, t, "extend", zj, {"deadline": "2026-06-30", "note": "又延"}, now=after)
    assert (t.deadline, t.extensions) == (date(2026, 5, 31), 2)


def test_parents_are_done_when_their_children_are(session: Session) -> None:
    tasks = directive(session)
    parent, a, b = tasks["一、"], tasks["一、/（一）"], tasks["一、/（二）"]
    dc, sw = supervisor(session), user(session, "handler_sw")
    assign(session, parent, lead="SW")
    for child in (a, b):
        assign(session, child, lead="SW")
        transition(session, child, "sign", sw, now=NOW)
    transition(session, parent, "sign", sw, now=NOW)
    with pytest.raises(IllegalTransition):  # a parent is not closed on its own
        transition(session, parent, "apply", sw, {"note": "完成"}, now=NOW)
    with pytest.raises(Forbidden):  # nobody but the system rolls up
        transition(session, parent, "roll_up", dc, now=NOW)
    with pytest.raises(IllegalTransition):  # nor while a child is open
        transition(session, parent, "roll_up", SYSTEM, now=NOW)
    for child in (a, b):
        transition(session, child, "apply", sw, {"note": "完成"}, now=NOW)
    transition(session, a, "accept", dc, now=NOW)
    assert parent.state == "doing"
    transition(session, b, "accept", dc, now=NOW)
    assert parent.state == "done" and parent.done_on == date(2026, 3, 2)
    assert events(session, parent.id)[-1] == "roll_up"


def test_notices_go_to_the_units_and_the_supervisors(session: Session) -> None:
    tasks = directive(session)
    dc = supervisor(session)
    t = assign(session, tasks["二、"], lead="ZJ", co_units=["SW"])
    zj, sw = user(session, "handler_zj"), user(session, "handler_sw")

    def titles(uid: int | None) -> list[str]:
        q = select(Notification.title).where(Notification.user_id == uid).order_by(Notification.id)
        return list(session.scalars(q))

    assert titles(zj.user_id) == ["新的督办任务：二、改造老旧小区"]
    assert titles(sw.user_id) == ["新的督办任务：二、改造老旧小区"]
    transition(session, t, "urge", dc, {"note": "请尽快签收"}, now=NOW)
    transition(session, t, "supervise", user(session, "leader"), {"note": "区长督办"}, now=NOW)
    assert titles(zj.user_id)[1:] == ["催办：二、改造老旧小区", "督办：二、改造老旧小区"]
    assert t.state == "assigned"
    transition(session, t, "sign", zj, now=NOW)
    transition(session, t, "apply", zj, {"note": "完成"}, now=NOW)
    assert titles(dc.user_id) == ["申请办结待审核：二、改造老旧小区"]
    assert allowed_actions(dc, t) == ["accept", "return", "urge", "supervise"]
    assert allowed_actions(zj, t) == []
