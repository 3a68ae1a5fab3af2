"""Batch actions: 批量签收, 批量派遣, 批量结案 — one action on several cases, with a result for each.

Every case goes through ``transition`` inside its own savepoint, so a refused case (wrong state, out of the
actor's reach, no routing rule …) leaves nothing written for itself and does not undo the others. The result
lists each case in the order asked, with 成功 or the Chinese reason it was refused. A case the actor cannot
read is reported without its number (the batch never tells more than the single-case route would).

What the action takes (a note, a department) is checked once, before any case is touched: a bad body is
one clear 422 for the whole batch, never the same refusal repeated on every case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases import repository
from civicgrid.cases.states import ACTION_LABELS, RULES, STATE_LABELS
from civicgrid.cases.transition import transition, validate_data
from civicgrid.errors import AppError, InvalidInput
from civicgrid.models import Department
from civicgrid.org.roles import Principal

# The actions a batch may take, in the order the pages offer them.
BATCH_ACTIONS: tuple[str, ...] = ("sign", "dispatch", "close")
MAX_BATCH = 100
OK_TEXT = "成功"


@dataclass(frozen=True)
class ItemResult:
    """The outcome of the batch's action on one case."""

    case_id: int
    number: str | None  # None when the actor may not read the case (or it does not exist)
    ok: bool
    message: str  # 成功, or why the case was refused
    state: str | None = None  # the case's state after a success
    status: int = 200  # the HTTP status the single-case route would have answered
    code: str = "ok"
    title: str = ""

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state or "", "")


@dataclass(frozen=True)
class BatchResult:
    action: str
    label: str
    items: list[ItemResult]

    @property
    def succeeded(self) -> int:
        return sum(1 for i in self.items if i.ok)

    @property
    def refused(self) -> int:
        return len(self.items) - self.succeeded


def actions_for(actor: Principal) -> list[str]:
    """The batch actions ``actor`` holds a role for (what the queue's batch bar offers)."""
    return [a for a in BATCH_ACTIONS if actor.roles & RULES[a].roles]


def _unique(ids: Iterable[int]) -> list[int]:
    seen: dict[int, None] = {}
    for i in ids:
        seen.setdefault(int(i), None)
    return list(seen)


def check_request(session: Session, action: str, ids: list[int], data: Mapping[str, Any]) -> None:
    """Refuse a malformed batch as a whole (422) before touching any case."""
    if action not in BATCH_ACTIONS:
        labels = "、".join(ACTION_LABELS[a] for a in BATCH_ACTIONS)
        raise InvalidInput(f"不支持批量执行该操作：{action}（可批量：{labels}）", allowed=list(BATCH_ACTIONS))
    if not ids:
        raise InvalidInput("请至少选择一件案卷")
    if len(ids) > MAX_BATCH:
        raise InvalidInput(f"一次最多批量处理 {MAX_BATCH} 件案卷，收到 {len(ids)} 件")
    payload = validate_data(action, data)
    code = getattr(payload, "department_code", None)
    if code:
        dept = session.scalar(select(Department).where(Department.code == code))
        if dept is None or not dept.active:
            raise InvalidInput(f"未知的处置部门代码：{code}")


def _one(
    session: Session, actor: Principal, action: str, case_id: int, data: Mapping[str, Any]
) -> ItemResult:
    number: str | None = None
    try:
        with session.begin_nested():
            repository.get_case(session, actor, case_id)  # 404 / 403: nothing said about the case
            case = repository.get_case_for_update(session, case_id)
            number = case.number
            transition(session, case, action, actor, dict(data))
            state = case.state
    except AppError as exc:
        return ItemResult(
            case_id, number, False, exc.message, status=exc.status, code=exc.code, title=exc.title
        )
    return ItemResult(case_id, number, True, OK_TEXT, state=state)


def run_batch(
    session: Session, actor: Principal, action: str, ids: Iterable[int], data: Mapping[str, Any] | None = None
) -> BatchResult:
    """Take ``action`` on each case of ``ids`` (duplicates once, in the order given), each in its own
    savepoint. Raises InvalidInput (422) for a malformed batch; per-case refusals are results, not errors."""
    wanted = _unique(ids)
    body = dict(data or {})
    check_request(session, action, wanted, body)
    items = [_one(session, actor, action, case_id, body) for case_id in wanted]
    return BatchResult(action, ACTION_LABELS[action], items)
