"""Security events (login, failed login, reveal, role change, API key use, export) in a hash-chained log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.models import CaseEvent, ChainHead, SecurityEvent, utcnow
from civicgrid.security.chain import ChainProblem, next_link, verify_rows

CHAIN = "security"


def _payload(ev: SecurityEvent) -> dict[str, Any]:
    return {
        "kind": ev.kind,
        "user_id": ev.user_id,
        "subject": ev.subject,
        "data": ev.data,
        "ip": ev.ip,
        "created_at": ev.created_at.isoformat(),
    }


def record(
    session: Session,
    kind: str,
    *,
    user_id: int | None = None,
    subject: str = "",
    ip: str = "",
    data: dict[str, Any] | None = None,
) -> SecurityEvent:
    ev = SecurityEvent(
        kind=kind, user_id=user_id, subject=subject[:200], data=data or {}, ip=ip[:64], created_at=utcnow()
    )
    ev.chain_seq, ev.prev_hash, ev.hash = next_link(session, CHAIN, _payload(ev))
    session.add(ev)
    return ev


def verify_all(session: Session) -> list[ChainProblem]:
    """Walk both chains (case events and security events) and report every broken link."""
    from civicgrid.cases.events import CHAIN as CASE_CHAIN
    from civicgrid.cases.events import event_payload

    problems: list[ChainProblem] = []
    heads = {h.name: h for h in session.scalars(select(ChainHead))}
    case_rows = (
        (e.chain_seq, e.prev_hash, e.hash, event_payload(e))
        for e in session.scalars(
            select(CaseEvent).order_by(CaseEvent.chain_seq).execution_options(yield_per=2000)
        )
    )
    problems += verify_rows(CASE_CHAIN, case_rows, heads.get(CASE_CHAIN))
    sec_rows = (
        (e.chain_seq, e.prev_hash, e.hash, _payload(e))
        for e in session.scalars(select(SecurityEvent).order_by(SecurityEvent.chain_seq))
    )
    problems += verify_rows(CHAIN, sec_rows, heads.get(CHAIN))
    return problems
