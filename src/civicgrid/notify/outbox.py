"""Delivering the outbox: rows written in the same transaction as a change, delivered after commit.

A delivery job claims due rows in a short transaction (it moves their ``next_at`` a lease ahead, so another
process skips them), delivers them outside any transaction (an HTTP post must never hold SQLite's write lock),
then records each result in another short transaction: delivered, or the next attempt after an exponential
back-off capped at ``outbox_max_backoff_s``. Nothing is dropped: a row that keeps failing is retried for ever
at the capped pace and shown as failing (``failing`` below, the admin page and ``/metrics``) after
``outbox_failing_after`` attempts. Delivery is at least once: a process that dies after delivering and
before recording delivers that row again after its lease.

The kinds and their delivery functions come from the domain registry (``Domain.deliveries``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid import domains
from civicgrid.errors import NotFound
from civicgrid.models import OutboxMessage, utcnow
from civicgrid.settings import get_settings

log = logging.getLogger("civicgrid.outbox")
LEASE = timedelta(seconds=60)  # a claimed row is skipped by other deliverers for this long
BATCH = 50
BASE_BACKOFF_S = 2.0

Deliver = Callable[[str, dict[str, Any]], None]


def enqueue(
    session: Session,
    kind: str,
    target: str,
    payload: dict[str, Any],
    *,
    case_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Write a delivery in the caller's transaction (it is sent only if that transaction commits)."""
    now = now or utcnow()
    msg = OutboxMessage(
        kind=kind, target=target, payload=payload, case_id=case_id, created_at=now, attempts=0, next_at=now
    )
    session.add(msg)
    return msg


def backoff(attempts: int) -> timedelta:
    """The pause before the next attempt after ``attempts`` failures: 2 s, 4 s, 8 s … up to the cap."""
    cap = get_settings().outbox_max_backoff_s
    return timedelta(seconds=min(cap, BASE_BACKOFF_S * 2 ** max(0, attempts - 1)))


def deliverers() -> dict[str, Deliver]:
    return {kind: domains.resolve(ref) for kind, ref in domains.each("deliveries")}


@dataclass
class DeliveryResult:
    delivered: int = 0
    failed: int = 0

    def summary(self) -> str:
        return f"投递成功 {self.delivered} 条，失败待重试 {self.failed} 条"


def _claim(session: Session, now: datetime, limit: int) -> list[tuple[int, str, str, dict[str, Any]]]:
    rows = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_at <= now)
            .order_by(OutboxMessage.next_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.next_at = now + LEASE
        row.attempts += 1
    return [(r.id, r.kind, r.target, dict(r.payload)) for r in rows]


def deliver_due(
    unit: Callable[[], AbstractContextManager[Session]] | None = None,
    *,
    now: datetime | None = None,
    limit: int = BATCH,
) -> DeliveryResult:
    """One round: claim what is due, deliver it, record the results. ``unit`` opens a unit of work (a write
    session that commits when the block ends); the default is ``db.unit_of_work``."""
    if unit is None:
        from civicgrid.db import unit_of_work

        unit = unit_of_work
    now = now or utcnow()
    with unit() as session:
        claimed = _claim(session, now, limit)
    if not claimed:
        return DeliveryResult()
    handlers = deliverers()
    outcome: dict[int, str | None] = {}
    for msg_id, kind, target, payload in claimed:
        handler = handlers.get(kind)
        try:
            if handler is None:
                raise LookupError(f"没有登记「{kind}」类消息的投递方式")
            handler(target, payload)
            outcome[msg_id] = None
        except Exception as exc:  # any failure is recorded and retried; one bad target never stops the rest
            outcome[msg_id] = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("outbox %s to %s failed: %s", kind, target, outcome[msg_id])
    result = DeliveryResult()
    done = utcnow()
    with unit() as session:
        for msg_id, error in outcome.items():
            row = session.get(OutboxMessage, msg_id)
            if row is None:
                continue
            if error is None:
                row.delivered_at, row.last_error = done, None
                result.delivered += 1
            else:
                row.last_error = error
                row.next_at = done + backoff(row.attempts)
                result.failed += 1
    return result


def run_job() -> str:
    """The periodic delivery job (``civicgrid jobs run outbox``)."""
    total = DeliveryResult()
    while True:  # drain what is due now, a batch at a time
        r = deliver_due()
        total.delivered += r.delivered
        total.failed += r.failed
        if r.delivered + r.failed < BATCH or r.failed:
            return total.summary()


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    failing: int
    oldest_pending_s: float


def stats(session: Session, now: datetime | None = None) -> OutboxStats:
    now = now or utcnow()
    pending = OutboxMessage.delivered_at.is_(None)
    n, oldest = session.execute(select(func.count(), func.min(OutboxMessage.created_at)).where(pending)).one()
    failing = session.scalar(
        select(func.count()).where(pending, OutboxMessage.attempts >= get_settings().outbox_failing_after)
    )
    return OutboxStats(int(n), int(failing or 0), (now - oldest).total_seconds() if oldest else 0.0)


def undelivered(session: Session, *, failing_only: bool = False, limit: int = 200) -> list[OutboxMessage]:
    q = select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))
    if failing_only:
        q = q.where(OutboxMessage.attempts >= get_settings().outbox_failing_after)
    return list(session.scalars(q.order_by(OutboxMessage.created_at).limit(limit)))


def retry_now(session: Session, msg_id: int, now: datetime | None = None) -> OutboxMessage:
    """Send an undelivered row at the next round (an admin's "重试" after fixing the receiver)."""
    row = session.get(OutboxMessage, msg_id)
    if row is None or row.delivered_at is not None:
        raise NotFound(f"没有待投递的消息 {msg_id}")
    row.next_at = now or utcnow()
    return row
