"""Webhooks (an intranet message bus, a WeCom/DingTalk bridge …): every case event is posted to each URL of
``CIVICGRID_WEBHOOK_URLS`` through the outbox, so a receiver that is down gets every event once it is back."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from civicgrid.models import Case, CaseEvent
from civicgrid.notify.outbox import enqueue
from civicgrid.settings import get_settings

KIND = "webhook"


def urls() -> list[str]:
    return [u.strip() for u in get_settings().webhook_urls.split(",") if u.strip()]


def event_payload(case: Case, event: CaseEvent) -> dict[str, Any]:
    """What a receiver learns: the case's number, place and department, and the action taken (no personal
    data: reporters' names and phones never leave through a webhook)."""
    return {
        "type": "case_event",
        "event_id": event.id,
        "case_number": case.number,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor_role": event.actor_role,
        "at": event.created_at.isoformat(),
        "category_code": case.category_code,
        "grid_code": case.grid_code,
        "department_id": case.department_id,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "data": event.data or {},
    }


def on_case_event(session: Session, case: Case, event: CaseEvent) -> None:
    """Case-event subscriber: one outbox row per configured webhook."""
    targets = urls()
    if not targets:
        return
    payload = event_payload(case, event)
    for url in targets:
        enqueue(session, KIND, url, payload, case_id=case.id, now=event.created_at)


def deliver(target: str, payload: dict[str, Any]) -> None:
    """Post one event; any non-2xx answer or network error raises, and the outbox retries."""
    response = httpx.post(target, json=payload, timeout=5.0, headers={"User-Agent": "CivicGrid-webhook"})
    response.raise_for_status()
