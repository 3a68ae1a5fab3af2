"""chain positions may be empty until commit (PostgreSQL links a transaction's rows at commit)

Revision ID: 0011_chain_link_at_commit
Revises: 0010_outbox
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_chain_link_at_commit"
down_revision = "0010_outbox"
branch_labels = None
depends_on = None

TABLES = ("case_events", "security_events")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("chain_seq", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("chain_seq", existing_type=sa.Integer(), nullable=False)
