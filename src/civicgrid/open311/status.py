"""How our case states and events look from Open311: open/closed, public notes, and the mySociety update
statuses in both directions. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from civicgrid.cases.states import ACTION_LABELS, FINAL, STATE_LABELS

REQUEST_ACTION = "open311_request"  # the client's extra data (attributes, media_url, device/account ids)
UPDATE_ACTION = "open311_update"  # an update POSTed by a client (servicerequestupdates)
OWN_LABELS = {REQUEST_ACTION: "Open311 上报附加信息", UPDATE_ACTION: "外部系统进展更新"}

# Events whose note is public (in status_notes, notes[] and updates); other events show their label only.
NOTE_PUBLIC = frozenset(
    {
        "report",
        "register",
        "void",
        "merge",
        "dispatch",
        "sign",
        "feedback",
        "check",
        "close",
        "reopen",
        "hold",
        "release",
        UPDATE_ACTION,
    }
)
HIDDEN = frozenset({REQUEST_ACTION})

_STATE_UPDATE_STATUS = {
    "received": "OPEN",
    "verifying": "INVESTIGATING",
    "verified": "INVESTIGATING",
    "registered": "ACTION_SCHEDULED",
    "dispatched": "ACTION_SCHEDULED",
    "processing": "IN_PROGRESS",
    "returned": "INTERNAL_REFERRAL",
    "feedback": "IN_PROGRESS",
    "checking": "IN_PROGRESS",
    "checked": "FIXED",
    "closed": "FIXED",
    "voided": "NO_FURTHER_ACTION",
    "merged": "DUPLICATE",
}


def request_status(state: str) -> str:
    """GeoReport v2 status: closed once the case is closed, voided or merged; open otherwise."""
    return "closed" if state in {s.value for s in FINAL} else "open"


def action_label(action: str) -> str:
    return OWN_LABELS.get(action) or ACTION_LABELS.get(action, action)


def event_text(action: str, to_state: str, note: str) -> str:
    """The public Chinese text of an event, e.g. ``派遣（已派遣）：按派遣规则自动派遣``."""
    head = f"{action_label(action)}（{STATE_LABELS.get(to_state, to_state)}）"
    note = (note or "").strip()
    return f"{head}：{note}" if note and action in NOTE_PUBLIC else head


def update_status(action: str, to_state: str, data: dict[str, Any]) -> str:
    """The mySociety status of one event (GET servicerequestupdates)."""
    if action == UPDATE_ACTION and data.get("status"):
        return str(data["status"])
    if action == "reopen":
        return "REOPEN"
    if action == "close" and data.get("close_type") == "special":
        return "CLOSED"
    return _STATE_UPDATE_STATUS.get(to_state, "OPEN")


@dataclass(frozen=True)
class IncomingStatus:
    label: str  # Chinese, prefixed to the note
    suggested_action: str | None  # the action an operator should consider (recorded, not applied)


# POST servicerequestupdates: every update is recorded as a note event on the case, never a state change.
INCOMING: dict[str, IncomingStatus] = {
    "OPEN": IncomingStatus("仍待处理", None),
    "INVESTIGATING": IncomingStatus("调查中", None),
    "IN_PROGRESS": IncomingStatus("处置中", None),
    "ACTION_SCHEDULED": IncomingStatus("已安排处置", None),
    "FIXED": IncomingStatus("已修复", "feedback"),
    "CLOSED": IncomingStatus("已关闭", "close"),
    "DUPLICATE": IncomingStatus("重复问题", "merge"),
    "NOT_COUNCILS_RESPONSIBILITY": IncomingStatus("不属本单位职责", "return"),
    "NO_FURTHER_ACTION": IncomingStatus("无需进一步处理", "void"),
    "INTERNAL_REFERRAL": IncomingStatus("内部转办", "return"),
    "CANCELLED": IncomingStatus("已撤销", "void"),
    "REOPEN": IncomingStatus("要求重新处理", "reopen"),
    "UNABLE_TO_FIX": IncomingStatus("暂时无法修复", "hold"),
}
