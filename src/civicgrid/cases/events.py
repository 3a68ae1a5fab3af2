"""Appending case events: one row per action, linked into the case-event hash chain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import Case, CaseEvent
from civicgrid.org.roles import Principal
from civicgrid.security.chain import link_row

CHAIN = "case_events"


def event_payload(ev: CaseEvent) -> dict[str, Any]:
    """The fields an event's hash covers (everything a reader of the timeline relies on). ``public`` is
    covered only when true, so the links of events written before it existed (all internal) stay valid and
    turning a note public — or back — breaks the link either way."""
    payload = {
        "case_id": ev.case_id,
        "action": ev.action,
        "actor_user_id": ev.actor_user_id,
        "actor_role": ev.actor_role,
        "from_state": ev.from_state,
        "to_state": ev.to_state,
        "note": ev.note,
        "data": ev.data,
        "attachment_ids": list(ev.attachment_ids or []),
        "created_at": ev.created_at.isoformat(),
    }
    if ev.public:
        payload["public"] = True
    return payload


def public_note(ev: CaseEvent) -> str:
    """The note of ``ev`` as the public sees it (tracking page, Open311): its text if 公开, else nothing."""
    return ev.note if ev.public else ""


def append_event(
    session: Session,
    case: Case,
    *,
    action: str,
    actor: Principal,
    role: str,
    from_state: str | None,
    to_state: str,
    now: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
    attachment_ids: Sequence[int] = (),
    public: bool = False,
) -> CaseEvent:
    """Append an event; ``public`` makes its note visible on the public tracking page and in Open311."""
    if case.id is None:
        session.flush()
    ev = CaseEvent(
        case_id=case.id,
        action=action,
        actor_user_id=actor.user_id,
        actor_role=role,
        actor_label=actor.label,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
        attachment_ids=list(attachment_ids),
        created_at=now,
        public=public,
    )
    link_row(session, CHAIN, ev, event_payload(ev))
    session.add(ev)
    case.updated_at = now
    return ev


def chain_rows(session: Session) -> tuple[str, Iterator[tuple[int, str, str, str | None, dict[str, Any]]]]:
    """The case-event chain for ``audit verify`` (declared in cases/domain.py): its name and its links in
    order, each with the payload its MAC covers."""
    rows = session.scalars(select(CaseEvent).order_by(CaseEvent.chain_seq).execution_options(yield_per=2000))
    return CHAIN, ((e.chain_seq, e.prev_hash, e.hash, e.link_alg, event_payload(e)) for e in rows)
