"""supervision: directives, tasks, projects (issue 15)

Revision ID: 0018_supervision
Revises: 0017_station_alarms
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0018_supervision"
down_revision = "0017_station_alarms"
branch_labels = None
depends_on = None

UTC = civicgrid.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "supervision_directives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_supervision_directives_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_directives")),
    )
    op.create_table(
        "supervision_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("lead_unit_id", sa.Integer(), nullable=True),
        sa.Column("co_unit_ids", sa.JSON(), nullable=False),
        sa.Column("leader", sa.String(length=100), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("cadence", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("colour_reason", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", UTC, nullable=True),
        sa.Column("signed_at", UTC, nullable=True),
        sa.Column("applied_at", UTC, nullable=True),
        sa.Column("done_at", UTC, nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("last_report_on", sa.Date(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["supervision_directives.id"],
            name=op.f("fk_supervision_tasks_directive_id_supervision_directives"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["supervision_tasks.id"],
            name=op.f("fk_supervision_tasks_parent_id_supervision_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["departments.id"], name=op.f("fk_supervision_tasks_lead_unit_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_tasks")),
    )
    op.create_index(op.f("ix_supervision_tasks_directive_id"), "supervision_tasks", ["directive_id"])
    op.create_index(op.f("ix_supervision_tasks_parent_id"), "supervision_tasks", ["parent_id"])
    op.create_index(op.f("ix_supervision_tasks_state"), "supervision_tasks", ["state"])
    op.create_index("ix_supervision_tasks_lead_state", "supervision_tasks", ["lead_unit_id", "state"])
    op.create_table(
        "supervision_task_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_label", sa.String(length=100), nullable=False),
        sa.Column("from_state", sa.String(length=12), nullable=True),
        sa.Column("to_state", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("link_alg", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["supervision_tasks.id"],
            name=op.f("fk_supervision_task_events_task_id_supervision_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_supervision_task_events_actor_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_task_events")),
        sa.UniqueConstraint("chain_seq", name=op.f("uq_supervision_task_events_chain_seq")),
    )
    op.create_index(op.f("ix_supervision_task_events_task_id"), "supervision_task_events", ["task_id"])
    op.create_index(op.f("ix_supervision_task_events_created_at"), "supervision_task_events", ["created_at"])
    op.create_table(
        "supervision_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["supervision_tasks.id"],
            name=op.f("fk_supervision_reports_task_id_supervision_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_supervision_reports_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_supervision_reports_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_reports")),
    )
    op.create_index(op.f("ix_supervision_reports_task_id"), "supervision_reports", ["task_id"])
    op.create_index(op.f("ix_supervision_reports_at"), "supervision_reports", ["at"])
    op.create_table(
        "supervision_colour_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("from_colour", sa.String(length=8), nullable=False),
        sa.Column("to_colour", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["supervision_tasks.id"],
            name=op.f("fk_supervision_colour_changes_task_id_supervision_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_colour_changes")),
    )
    op.create_index(op.f("ix_supervision_colour_changes_task_id"), "supervision_colour_changes", ["task_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_colour_changes_task_id"), table_name="supervision_colour_changes")
    op.drop_table("supervision_colour_changes")
    op.drop_index(op.f("ix_supervision_reports_at"), table_name="supervision_reports")
    op.drop_index(op.f("ix_supervision_reports_task_id"), table_name="supervision_reports")
    op.drop_table("supervision_reports")
    op.drop_index(op.f("ix_supervision_task_events_created_at"), table_name="supervision_task_events")
    op.drop_index(op.f("ix_supervision_task_events_task_id"), table_name="supervision_task_events")
    op.drop_table("supervision_task_events")
    op.drop_index("ix_supervision_tasks_lead_state", table_name="supervision_tasks")
    op.drop_index(op.f("ix_supervision_tasks_state"), table_name="supervision_tasks")
    op.drop_index(op.f("ix_supervision_tasks_parent_id"), table_name="supervision_tasks")
    op.drop_index(op.f("ix_supervision_tasks_directive_id"), table_name="supervision_tasks")
    op.drop_table("supervision_tasks")
    op.drop_table("supervision_directives")
