"""The security audit log and the heads of the hash chains."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base, utcnow


class ChainHead(Base):
    """The last link of a hash chain. Locking this row serialises appends, so the chain never forks. ``mac``
    (under the audit key, outside the database) covers the other fields; ``legacy_seq`` is the last row linked
    with plain SHA-256 before migration 0007 (security/chain.py)."""

    __tablename__ = "chain_heads"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    alg: Mapped[str] = mapped_column(String(16), default="hmac-sha256", server_default="sha256")
    legacy_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mac: Mapped[str | None] = mapped_column(String(64))


class SecurityEvent(Base):
    """Login, failed login, reveal of personal data, role change, API key use, export — append-only and
    chained."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL only inside the transaction that appends it on PostgreSQL (linked at commit: security/chain.py)
    chain_seq: Mapped[int] = mapped_column(Integer, unique=True, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The link's algorithm: "sha256" (legacy, before 0007), "hmac-sha256" or "hmac-sm3".
    link_alg: Mapped[str] = mapped_column(String(16), server_default="sha256")
