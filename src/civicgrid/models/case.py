"""The case (案卷) aggregate: the case row, its append-only events, attachments, supervisions and counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civicgrid.models.base import Base, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_state_due", "state", "due_at"),
        Index("ix_cases_grid", "grid_code"),
        Index("ix_cases_department_state", "department_id", "state"),
        Index("ix_cases_received", "received_at"),
        Index("ix_cases_category_received", "category_code", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    classification_confidence: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(
        String(16)
    )  # citizen | inspector | hotline | open311 | sensor | operator
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)

    # Where: always stored as WGS84, located against one grid generation.
    lng: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("grid_generations.id"))
    grid_code: Mapped[str] = mapped_column(String(20))
    community_code: Mapped[str] = mapped_column(String(20), index=True)
    street_code: Mapped[str] = mapped_column(String(20), index=True)

    # Who reported. Personal fields are encrypted at rest; the phone also has a keyed hash for matching.
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_name_enc: Mapped[str | None] = mapped_column(String(512))
    reporter_phone_enc: Mapped[str | None] = mapped_column(String(512))
    reporter_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    query_code_hash: Mapped[str | None] = mapped_column(String(128))
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))

    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    # Stage timestamps (one per stage of the loop; the transition function sets them).
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    verify_sent_at: Mapped[datetime | None] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()
    verify_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    registered_at: Mapped[datetime | None] = mapped_column()
    dispatched_at: Mapped[datetime | None] = mapped_column()  # first dispatch: the disposal clock starts
    last_dispatched_at: Mapped[datetime | None] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    feedback_at: Mapped[datetime | None] = mapped_column()
    check_sent_at: Mapped[datetime | None] = mapped_column()
    checked_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    voided_at: Mapped[datetime | None] = mapped_column()
    merged_at: Mapped[datetime | None] = mapped_column()

    # Deadlines are stored; overdue is a query (due_at < now).
    due_at: Mapped[datetime | None] = mapped_column()  # disposal due, from dispatch
    stage_due_at: Mapped[datetime | None] = (
        mapped_column()
    )  # 立案派遣 / 核实 / 核查 due for the current stage
    extension_requested_minutes: Mapped[int | None] = mapped_column(Integer)
    extension_requested_limit: Mapped[str | None] = mapped_column(String(12))
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)

    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    close_type: Mapped[str | None] = mapped_column(String(16))  # normal | overdue | special

    held: Mapped[bool] = mapped_column(Boolean, default=False)
    held_at: Mapped[datetime | None] = mapped_column()
    hold_reason: Mapped[str | None] = mapped_column(Text)
    hold_review_on: Mapped[str | None] = mapped_column(String(10))  # ISO date

    master_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    report_count: Mapped[int] = mapped_column(Integer, default=1)

    rating: Mapped[int | None] = mapped_column(Integer)
    rating_text: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column()

    warning_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 ok, 1 黄灯 sent, 2 红灯 sent
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    events: Mapped[list[CaseEvent]] = relationship(
        lazy="raise", order_by="CaseEvent.id", back_populates="case", viewonly=True
    )
    attachments: Mapped[list[Attachment]] = relationship(
        lazy="raise", order_by="Attachment.id", viewonly=True
    )


class CaseEvent(Base):
    """One action on a case. Append-only, and part of the hash-chained audit log (``chain_seq``/``hash``)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attachment_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # NULL only inside the transaction that appends it on PostgreSQL (linked at commit: security/chain.py)
    chain_seq: Mapped[int] = mapped_column(Integer, unique=True, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The link's algorithm: "sha256" (legacy, before 0007), "hmac-sha256" or "hmac-sm3" (security/chain.py).
    link_alg: Mapped[str] = mapped_column(String(16), server_default="sha256")
    # 公开 (shown on the public tracking page and Open311) or 内部. Staff notes are internal unless marked
    # public; a citizen's own words are public. Events before 0012 are internal (see that migration).
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    case: Mapped[Case] = relationship(lazy="raise", back_populates="events")


class Attachment(Base):
    """A photo. Until it is attached to a case (``case_id``), only its uploader may attach or view it: the
    user (``uploaded_by``) or, for an anonymous upload, the holder of its token (``upload_token_hash``)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_client_created", "client_hash", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="photo")
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    upload_token_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of an anonymous one's token
    client_hash: Mapped[str | None] = mapped_column(String(64))  # keyed hash of an anonymous uploader's IP
    # The workflow step that added the photo: the action's name (report, verify, feedback, check, …), NULL
    # while not attached. Drives the 处置前/处置后 comparison (cases/attachments.py).
    step: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Supervision(Base):
    """A supervision note on a case: a leader's 督办 (level ``leader``), or the sweeper's 黄灯/红灯 预警
    (``warning`` / ``overdue``, once per case and level)."""

    __tablename__ = "supervisions"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_supervisions_dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[str] = mapped_column(String(12))  # warning | overdue | leader
    note: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str | None] = mapped_column(String(60))


class Notification(Base):
    """A message in a user's inbox (and, optionally, posted to webhooks)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class Counter(Base):
    """Named counters (daily case-number sequences), bumped atomically with UPDATE … RETURNING."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CodeAttempt(Base):
    """Failed tracking-code attempts on one case (security/attempts.py): shared by every worker process."""

    __tablename__ = "code_attempts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
