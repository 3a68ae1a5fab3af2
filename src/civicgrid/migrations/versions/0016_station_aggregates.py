"""station hourly/daily aggregates, their indices and the monitoring jobs' watermarks (issue 14)

Revision ID: 0016_station_aggregates
Revises: 0015_monitoring
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0016_station_aggregates"
down_revision = "0015_monitoring"
branch_labels = None
depends_on = None

UTC = civicgrid.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "station_aggregates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("vmin", sa.Float(), nullable=True),
        sa.Column("vmax", sa.Float(), nullable=True),
        sa.Column("valid", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=2), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_aggregates_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_aggregates")),
        sa.UniqueConstraint("station_id", "window", "at", "code", name="uq_station_aggregates_key"),
    )
    op.create_index("ix_station_aggregates_window_at", "station_aggregates", ["window", "at"])
    op.create_table(
        "station_indices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("aqi", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("primary_pollutants", sa.String(length=40), nullable=True),
        sa.Column("water_class", sa.String(length=4), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_indices_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_indices")),
        sa.UniqueConstraint("station_id", "window", "at", name="uq_station_indices_key"),
    )
    op.create_index("ix_station_indices_window_at", "station_indices", ["window", "at"])
    op.create_index("ix_station_readings_received_at", "station_readings", ["received_at"])
    op.create_index("ix_station_readings_station_at", "station_readings", ["station_id", "at"])
    op.create_table(
        "monitoring_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_monitoring_marks")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_marks")
    op.drop_index("ix_station_readings_station_at", table_name="station_readings")
    op.drop_index("ix_station_readings_received_at", table_name="station_readings")
    op.drop_index("ix_station_indices_window_at", table_name="station_indices")
    op.drop_table("station_indices")
    op.drop_index("ix_station_aggregates_window_at", table_name="station_aggregates")
    op.drop_table("station_aggregates")
