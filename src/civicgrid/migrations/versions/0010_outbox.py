"""the transactional outbox (issue 12)

Revision ID: 0010_outbox
Revises: 0009_idempotency_digest
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0010_outbox"
down_revision = "0009_idempotency_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", civicgrid.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", civicgrid.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", civicgrid.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "next_at"])
    op.create_index(op.f("ix_outbox_case_id"), "outbox", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_case_id"), table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
