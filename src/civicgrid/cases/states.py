"""The case engine's states and its transition table. States are the only enum; everything else is data."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from civicgrid.workflow.engine import Rule, rule


class State(StrEnum):
    received = "received"
    verifying = "verifying"
    verified = "verified"
    registered = "registered"
    dispatched = "dispatched"
    processing = "processing"
    returned = "returned"
    feedback = "feedback"
    checking = "checking"
    checked = "checked"
    closed = "closed"
    voided = "voided"
    merged = "merged"


STATE_LABELS: dict[str, str] = {
    "received": "待受理",
    "verifying": "核实中",
    "verified": "已核实",
    "registered": "已立案",
    "dispatched": "已派遣",
    "processing": "处置中",
    "returned": "已回退",
    "feedback": "已反馈",
    "checking": "核查中",
    "checked": "核查通过",
    "closed": "已结案",
    "voided": "已作废",
    "merged": "已并案",
}

S = State
INTAKE = frozenset({S.received, S.verifying, S.verified})
IN_DISPOSAL = frozenset({S.dispatched, S.processing, S.returned, S.feedback, S.checking, S.checked})
OPEN_REGISTERED = frozenset({S.registered}) | IN_DISPOSAL
FINAL = frozenset({S.closed, S.voided, S.merged})
OPEN = frozenset(State) - FINAL
# The disposal clock runs from dispatch until the department's feedback: these cases are 未处置 (undisposed).
DISPOSAL_CLOCK = frozenset({S.dispatched, S.processing, S.returned})
# The department has disposed of the case (it fed back; the command center may still check and close it).
DISPOSED = frozenset({S.feedback, S.checking, S.checked, S.closed})
# What the SLA sweeper warns about: a department holds the case (a returned case waits for the dispatcher).
SWEPT = frozenset({S.dispatched, S.processing})


def sql_list(states: frozenset[State] | set[State]) -> str:
    """A state set as an SQL list literal for DuckDB text queries, e.g. ``('dispatched', 'processing')``."""
    return "(" + ", ".join(f"'{s.value}'" for s in sorted(states)) + ")"


def _rule(
    action: str, label: str, roles: str, from_states: frozenset[State] | set[State], to: State | None
) -> Rule:
    return rule(action, label, roles, from_states, to)


RULES: dict[str, Rule] = {
    r.action: r
    for r in (
        _rule("send_verify", "派核实", "operator shift_lead system", {S.received}, S.verifying),
        _rule("verify", "核实", "inspector", {S.verifying}, S.verified),
        _rule("classify", "改类", "operator shift_lead", INTAKE | {S.registered}, None),
        _rule("register", "立案", "shift_lead system", {S.received, S.verified}, S.registered),
        _rule("void", "作废", "shift_lead", INTAKE | {S.registered}, S.voided),
        _rule("merge", "并案", "operator shift_lead system", INTAKE, S.merged),
        _rule("unmerge", "撤销并案", "operator shift_lead", {S.merged}, S.received),
        _rule("dispatch", "派遣", "dispatcher system", {S.registered, S.returned}, S.dispatched),
        _rule("sign", "签收", "handler", {S.dispatched}, S.processing),
        _rule("return", "回退", "handler", {S.dispatched, S.processing}, S.returned),
        _rule("feedback", "反馈", "handler", {S.processing}, S.feedback),
        _rule("extend", "申请延期", "handler", {S.dispatched, S.processing}, None),
        _rule("approve_extension", "审批延期", "shift_lead", {S.dispatched, S.processing}, None),
        _rule("send_check", "派核查", "operator shift_lead system", {S.feedback}, S.checking),
        _rule("check", "核查", "inspector", {S.checking}, None),
        _rule("close", "结案", "shift_lead", OPEN_REGISTERED, S.closed),
        _rule("hold", "挂账", "shift_lead", OPEN_REGISTERED, None),
        _rule("release", "解除挂账", "shift_lead", OPEN_REGISTERED, None),
        _rule("reopen", "重新派遣（市民反映未解决）", "shift_lead", {S.closed}, S.dispatched),
        _rule("rate", "评价", "citizen", {S.closed}, None),
        _rule("supervise", "督办", "leader system", OPEN_REGISTERED, None),
    )
}

ACTION_LABELS: dict[str, str] = {"report": "上报", "merge_in": "并入重复上报", "unmerge_out": "撤出并案"} | {
    a: r.label for a, r in RULES.items()
}

# A supervise event is 督办 only when a leader supervises; the SLA sweeper's automatic ones are 预警.
SUPERVISE_LABELS: dict[str, str] = {"leader": "督办", "warning": "黄灯预警", "overdue": "红灯预警"}


def event_label(action: str, data: dict[str, Any] | None = None) -> str:
    """The label of an event on a timeline: ``ACTION_LABELS``, with the sweeper's supervise events as 预警,
    and the events other domains write on cases (``Domain.extra["event_labels"]``: a station's notes …)."""
    if action == "supervise" and data and data.get("level") in SUPERVISE_LABELS:
        return SUPERVISE_LABELS[str(data["level"])]
    return ACTION_LABELS.get(action) or _domain_event_labels().get(action, action)


@cache
def _domain_event_labels() -> dict[str, str]:
    from civicgrid import domains

    out: dict[str, str] = {}
    for domain in domains.all_domains():
        out.update(domain.extra.get("event_labels", {}))
    return out


CLOSE_TYPE_LABELS = {"normal": "正常结案", "overdue": "超时结案", "special": "特殊结案"}
