"""A second workflow declared as data runs on the same engine as cases: rules, roles, reach, guards, data,
effects, events and subscribers — with no hand-written state machine."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel, Field

from civicgrid import domains
from civicgrid.errors import Forbidden, IllegalTransition, InvalidInput, NotYourCase
from civicgrid.org.roles import Principal
from civicgrid.workflow import engine


@dataclass
class Ticket:
    unit: str
    state: str = "new"
    events: list[dict[str, Any]] = field(default_factory=list)
    answer: str = ""


class Note(BaseModel):
    note: str = Field(default="", max_length=100)


class Answer(BaseModel):
    answer: str = Field(min_length=1)


def _sign(c: engine.Ctx[Ticket]) -> str:
    return "signed"


def _answer(c: engine.Ctx[Ticket]) -> str:
    c.subject.answer = c.data.answer
    c.extra["chars"] = len(c.data.answer)
    return "answered"


class _Session:
    def flush(self) -> None:
        pass


def _record(session: Any, ticket: Ticket, **kw: Any) -> dict[str, Any]:
    event = {k: kw[k] for k in ("action", "role", "from_state", "to_state", "extra")}
    ticket.events.append(event)
    return event


TICKET = engine.Workflow(
    name="ticket",
    subject_label="工单",
    state_labels={"new": "待签收", "signed": "已签收", "answered": "已办结"},
    rules={
        "sign": engine.rule("sign", "签收", "handler", {"new"}, "signed"),
        "answer": engine.rule("answer", "办结", "handler", {"signed"}, "answered"),
    },
    data={"sign": Note, "answer": Answer},
    effects={"sign": _sign, "answer": _answer},
    reach=lambda actor, role, t: role == "handler" and actor.username == t.unit,
    record=_record,
    guards={"answer": (lambda t: "工单未写明承办单位" if not t.unit else None,)},
)

HANDLER = Principal(user_id=1, username="平江街道", display_name="平江街道", roles=frozenset({"handler"}))
OTHER = Principal(user_id=2, username="沧浪街道", display_name="沧浪街道", roles=frozenset({"handler"}))
CITIZEN = Principal(user_id=3, username="c", display_name="市民", roles=frozenset({"citizen"}))


@pytest.fixture
def told() -> Any:
    seen: list[tuple[str, str]] = []
    mod = types.ModuleType("ticket_subscriber")
    mod.on_event = lambda session, t, ev: seen.append((t.unit, ev["action"]))  # type: ignore[attr-defined]
    sys.modules["ticket_subscriber"] = mod
    domains.add(domains.Domain("ticket", "工单", subscribers=(("ticket", "ticket_subscriber:on_event"),)))
    yield seen
    domains.remove("ticket")
    del sys.modules["ticket_subscriber"]


def test_the_path_events_and_subscribers(told: list[tuple[str, str]]) -> None:
    t = Ticket(unit="平江街道")
    assert TICKET.allowed_actions(HANDLER, t) == ["sign"] and TICKET.allowed_actions(OTHER, t) == []
    TICKET.transition(_Session(), t, "sign", HANDLER)
    TICKET.transition(_Session(), t, "answer", HANDLER, {"answer": "已清理"})
    assert (t.state, t.answer) == ("answered", "已清理")
    assert [(e["action"], e["from_state"], e["to_state"]) for e in t.events] == [
        ("sign", "new", "signed"),
        ("answer", "signed", "answered"),
    ]
    assert t.events[1]["extra"] == {"chars": 3}
    assert told == [("平江街道", "sign"), ("平江街道", "answer")]


def test_refusals_come_before_anything_is_written() -> None:
    t = Ticket(unit="平江街道")
    with pytest.raises(Forbidden, match="「签收」只能由专业部门处置人员执行"):
        TICKET.transition(_Session(), t, "sign", CITIZEN)
    with pytest.raises(NotYourCase, match="该工单不在您的职责范围内"):
        TICKET.transition(_Session(), t, "sign", OTHER)
    with pytest.raises(IllegalTransition, match="工单当前状态为「待签收」，不能执行「办结」"):
        TICKET.transition(_Session(), t, "answer", HANDLER, {"answer": "x"})
    TICKET.transition(_Session(), t, "sign", HANDLER)
    with pytest.raises(InvalidInput, match="answer"):
        TICKET.transition(_Session(), t, "answer", HANDLER, {})
    assert (t.state, len(t.events)) == ("signed", 1)


def test_a_workflow_must_be_complete() -> None:
    with pytest.raises(ValueError, match="every action needs a rule, a data model and an effect"):
        engine.Workflow(
            name="broken",
            subject_label="x",
            state_labels={},
            rules={"a": engine.rule("a", "甲", "handler", {"new"}, "b")},
            data={},
            effects={},
            reach=lambda *a: True,
            record=_record,
        )
