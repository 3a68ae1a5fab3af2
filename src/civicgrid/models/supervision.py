"""督查督办 (SPEC §13): directives, their task trees, task events (hash-chained), progress reports and the
history of status colours. Owned by ``civicgrid.supervision``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.models.base import Base, utcnow


class Directive(Base):
    """A 督办事项's source document (讲话, 会议决定, 领导批示, 文件 …), imported into a task tree."""

    __tablename__ = "supervision_directives"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # a label of supervision.vocab.SOURCES
    issued_by: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")  # the document as imported
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupervisionTask(Base):
    """One node of a directive's task tree: a task from 交办 to 销号 (supervision/tasks.py)."""

    __tablename__ = "supervision_tasks"
    __table_args__ = (Index("ix_supervision_tasks_lead_state", "lead_unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("supervision_directives.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_tasks.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order among its siblings
    number: Mapped[str] = mapped_column(String(16))  # as written: 一、 （一） 1. （1） 一要 一是 第一
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # 牵头单位
    co_unit_ids: Mapped[list[Any]] = mapped_column(default=list)  # 配合单位 (department ids)
    leader: Mapped[str] = mapped_column(String(100), default="")  # 分管领导
    deadline: Mapped[date | None] = mapped_column(Date)  # local (Asia/Shanghai) date, after any extension
    # [{"date": "YYYY-MM-DD", "target": "…", "met_on": "YYYY-MM-DD" | null}], in date order
    milestones: Mapped[list[Any]] = mapped_column(default=list)
    cadence: Mapped[str | None] = mapped_column(String(10))  # weekly | monthly | quarterly
    state: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)  # 延期次数
    returns: Mapped[int] = mapped_column(Integer, default=0)  # 退办次数
    colour: Mapped[str] = mapped_column(String(8), default="")  # as last computed by the task-colour job
    colour_reason: Mapped[str] = mapped_column(String(200), default="")
    assigned_at: Mapped[datetime | None] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    applied_at: Mapped[datetime | None] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    done_on: Mapped[date | None] = mapped_column(Date)  # the local date of 销号 (for 按期)
    last_report_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskEvent(Base):
    """One action on a task. Append-only, linked into the ``supervision_task_events`` hash chain."""

    __tablename__ = "supervision_task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("supervision_tasks.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # NULL only inside the transaction that appends it on PostgreSQL (linked at commit: security/chain.py)
    chain_seq: Mapped[int] = mapped_column(Integer, unique=True, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    link_alg: Mapped[str] = mapped_column(String(16))


class ProgressReport(Base):
    """A progress report (进展报告) of a task: percent, text, problems met, attachments."""

    __tablename__ = "supervision_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("supervision_tasks.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    percent: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    problems: Mapped[str] = mapped_column(Text, default="")
    attachment_ids: Mapped[list[Any]] = mapped_column(default=list)
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # sent after it was due (cadence)


class ColourChange(Base):
    """A change of a task's status colour, as the task-colour job saw it."""

    __tablename__ = "supervision_colour_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("supervision_tasks.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_colour: Mapped[str] = mapped_column(String(8))
    to_colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(200), default="")
