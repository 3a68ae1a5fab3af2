"""The mySociety extension: GET servicerequestupdates lists case events as updates; POST records a client's
update on a case as a note event (the operator decides what to do; no state changes through this door)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.cases.events import append_event, public_note
from civicgrid.models import ApiClient, Case, CaseEvent, utcnow
from civicgrid.open311.config import get_open311_settings
from civicgrid.open311.errors import Problems, fail
from civicgrid.open311.params import Params
from civicgrid.open311.present import media_path
from civicgrid.open311.query import public_cases
from civicgrid.open311.status import HIDDEN, INCOMING, UPDATE_ACTION, event_text, update_status
from civicgrid.open311.timefmt import w3c
from civicgrid.org.roles import Principal
from civicgrid.security import audit, pii

API_CLIENT_ROLE = "api_client"


def list_updates(
    session: Session, params: Params, base_url: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    s = get_open311_settings()
    problems = Problems()
    start, end = params.datetime("start_date", problems), params.datetime("end_date", problems)
    problems.raise_if_any()
    now = now or utcnow()
    window = timedelta(days=s.window_days)
    if start is None and end is None:
        start, end = now - window, now
    elif start is None:
        assert end is not None
        start = end - window
    elif end is None:
        end = start + window
    assert start is not None and end is not None
    if end < start:
        raise fail(400, "end_date 不能早于 start_date")
    if end - start > window:
        raise fail(400, f"start_date 与 end_date 相隔不能超过 {s.window_days} 天")
    stmt = (
        select(CaseEvent, Case.number)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            public_cases(),
            CaseEvent.action.not_in(HIDDEN),
            CaseEvent.created_at >= start,
            CaseEvent.created_at <= end,
        )
    )
    number = params.get("service_request_id")
    if number:
        stmt = stmt.where(Case.number == number)
    rows = session.execute(stmt.order_by(CaseEvent.created_at, CaseEvent.id).limit(s.max_results)).all()
    base = base_url.rstrip("/")
    return [_update(ev, num, base) for ev, num in rows]


def _update(ev: CaseEvent, number: str, base: str) -> dict[str, Any]:
    data = ev.data or {}
    ids = list(ev.attachment_ids or [])
    media = data.get("media_url") if ev.action == UPDATE_ACTION else None
    return {
        "update_id": str(ev.id),
        "service_request_id": number,
        "status": update_status(ev.action, ev.to_state, data),
        "updated_datetime": w3c(ev.created_at),
        "description": event_text(ev.action, ev.to_state, public_note(ev)),
        "media_url": media or (base + media_path(int(ids[0])) if ids else None),
    }


@dataclass
class PostedUpdate:
    event: CaseEvent
    case: Case


def post_update(
    session: Session, params: Params, client: ApiClient, now: datetime | None = None
) -> PostedUpdate:
    now = now or utcnow()
    problems = Problems()
    number = params.get("service_request_id")
    status = (params.get("status") or "").upper()
    description = params.get("description") or ""
    if number is None:
        problems.add(400, "缺少 service_request_id")
    if not status:
        problems.add(400, "缺少 status")
    elif status not in INCOMING:
        problems.add(400, f"未知的状态（status）：{status}，可选 {'、'.join(INCOMING)}")
    if not description:
        problems.add(400, "缺少 description（更新说明）")
    elif len(description) > 4000:
        problems.add(400, "description 过长：最多 4000 字")
    client_time = params.datetime("updated_datetime", problems)
    media = params.get("media_url")
    if media is not None and (len(media) > 500 or not media.startswith(("http://", "https://"))):
        problems.add(400, "media_url 应为 http(s) 网址，且不超过 500 字符")
    # A case still waiting for an operator is not public yet: answered exactly as an unknown request (as GET
    # /requests/{id} does), so a client cannot learn that it exists, nor write to it.
    case = session.scalar(select(Case).where(Case.number == number, public_cases())) if number else None
    if number and case is None:
        problems.add(404, f"未找到服务请求（service_request_id）：{number}")
    problems.raise_if_any()
    assert case is not None
    meaning = INCOMING[status]
    name = ((params.get("last_name") or "") + (params.get("first_name") or "")).strip()
    data = {
        "status": status,
        "suggested_action": meaning.suggested_action,
        "api_client_id": client.id,
        "external_update_id": params.get("update_id"),
        "client_datetime": w3c(client_time),
        "media_url": media,
        "name_enc": pii.encrypt(name) if name else None,
        "email_enc": pii.encrypt(params.get("email")) if params.get("email") else None,
    }
    applied = _apply_as_department(session, case, client, status, description, now)
    if applied is not None:
        audit.record(
            session,
            "api_key_use",
            subject=client.name,
            data={
                "client_id": client.id,
                "call": "POST servicerequestupdates",
                "case": case.number,
                "event": applied.id,
                "applied": applied.action,
            },
        )
        return PostedUpdate(applied, case)
    actor = Principal(
        user_id=None,
        username=f"api:{client.id}",
        display_name=client.name[:100],
        roles=frozenset({API_CLIENT_ROLE}),
    )
    event = append_event(
        session,
        case,
        action=UPDATE_ACTION,
        actor=actor,
        role=API_CLIENT_ROLE,
        from_state=case.state,
        to_state=case.state,
        now=now,
        note=f"【{meaning.label}】{description}",
        data={k: v for k, v in data.items() if v is not None},
        public=True,  # an update posted for the public (GeoReport servicerequestupdates), shown back to it
    )
    session.flush()
    audit.record(
        session,
        "api_key_use",
        subject=client.name,
        data={
            "client_id": client.id,
            "call": "POST servicerequestupdates",
            "case": case.number,
            "event": event.id,
        },
    )
    return PostedUpdate(event, case)


# A department-bound client's statuses, mapped onto the case engine's actions (state → actions to take in
# order).
APPLIED: dict[str, dict[str, tuple[str, ...]]] = {
    "IN_PROGRESS": {"dispatched": ("sign",)},
    "ACTION_SCHEDULED": {"dispatched": ("sign",)},
    "INVESTIGATING": {"dispatched": ("sign",)},
    "FIXED": {"dispatched": ("sign", "feedback"), "processing": ("feedback",)},
    "CLOSED": {"dispatched": ("sign", "feedback"), "processing": ("feedback",)},
    "NOT_COUNCILS_RESPONSIBILITY": {"dispatched": ("return",), "processing": ("return",)},
    "INTERNAL_REFERRAL": {"dispatched": ("return",), "processing": ("return",)},
}


def _apply_as_department(
    session: Session, case: Case, client: ApiClient, status: str, description: str, now: datetime
) -> CaseEvent | None:
    """When the client is bound to the case's department, take the mapped actions through the case engine as
    that department's handler; otherwise (or when no action applies in this state) return None: a note is
    kept."""
    if client.department_id is None or case.department_id != client.department_id:
        return None
    steps = APPLIED.get(status, {}).get(case.state)
    if not steps:
        return None
    from civicgrid.cases.transition import transition

    handler = Principal(
        user_id=None,
        username=f"api:{client.id}",
        display_name=client.name[:100],
        roles=frozenset({"handler"}),
        department_id=client.department_id,
    )
    event = None
    for action in steps:
        event = transition(session, case, action, handler, {"note": description}, now=now)
    return event
