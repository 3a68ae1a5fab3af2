"""The transactional outbox: what must reach someone because something changed, written in the same
transaction as the change and delivered after commit by a job that retries (``notify/outbox.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # a delivery kind declared by a domain, e.g. "webhook"
    target: Mapped[str] = mapped_column(String(500))  # where to (a URL, a queue name …)
    payload: Mapped[dict[str, Any]] = mapped_column()
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(default=utcnow)  # not before; also the lease of a claimed row
    delivered_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
