"""landmarks for the base map

Revision ID: 0014_landmarks
Revises: 0013_case_search
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0014_landmarks"
down_revision = "0013_case_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "landmarks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("created_at", civicgrid.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landmarks")),
    )


def downgrade() -> None:
    op.drop_table("landmarks")
