"""Security events (login, failed login, reveal, role change, API key use, export) in a keyed hash chain, and
the verification of both chains against their signed heads and the checkpoints outside the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid import domains
from civicgrid.models import ChainHead, SecurityEvent, utcnow
from civicgrid.security import macs
from civicgrid.security.chain import ChainProblem, link_row, verify_rows

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
    link_row(session, CHAIN, ev, _payload(ev))
    session.add(ev)
    return ev


@dataclass(frozen=True)
class Actor:
    """Who changes reference data or accounts, for the security log."""

    user_id: int | None
    ip: str = ""


def record_admin(session: Session, actor: Actor, what: str, subject: str, **data: Any) -> SecurityEvent:
    """An administrator's change (``admin_<what>``), with what it changed."""
    return record(
        session, f"admin_{what}"[:30], user_id=actor.user_id, subject=subject, ip=actor.ip, data=data
    )


@dataclass
class VerifyReport:
    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    anchors: int = 0  # signed checkpoint lines read


def verify_report(session: Session) -> VerifyReport:
    """Walk both chains (case events and security events) with their keyed links, signed heads and the
    checkpoints in the anchor folder, and report every problem."""
    from civicgrid.security.anchors import anchor_file, read_anchors

    key = macs.audit_key()
    path = anchor_file()
    book = read_anchors(path, key)
    report = VerifyReport(notes=list(book.notes), anchors=book.lines)
    report.problems += [ChainProblem("anchors", 0, p) for p in book.problems]
    if macs.key_is_derived():
        report.notes.append("未设置 CIVICGRID_AUDIT_KEY：审计密钥由 SECRET_KEY 派生，仅适用于开发与测试")
    if not book.lines:
        report.notes.append(
            f"未找到外部锚点（{path}）：无法发现链尾被整体截断；请运行 civicgrid audit checkpoint"
        )
    heads = {h.name: h for h in session.scalars(select(ChainHead))}
    # The domains' own chains (the case events, and every workflow's), declared in their domain.py.
    for chain_rows in domains.callables("audit_chains"):
        name, rows = chain_rows(session)
        report.problems += verify_rows(name, rows, heads.get(name), book.pins.get(name), key)
    sec_rows = (
        (e.chain_seq, e.prev_hash, e.hash, e.link_alg, _payload(e))
        for e in session.scalars(
            select(SecurityEvent).order_by(SecurityEvent.chain_seq).execution_options(yield_per=2000)
        )
    )
    report.problems += verify_rows(CHAIN, sec_rows, heads.get(CHAIN), book.pins.get(CHAIN), key)
    return report


def verify_all(session: Session) -> list[ChainProblem]:
    """Every broken link, head or checkpoint of both chains (empty when the log is whole)."""
    return verify_report(session).problems
