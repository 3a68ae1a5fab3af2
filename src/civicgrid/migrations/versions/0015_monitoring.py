"""monitoring stations and readings (issue 14)

Revision ID: 0015_monitoring
Revises: 0014_landmarks
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0015_monitoring"
down_revision = "0014_landmarks"
branch_labels = None
depends_on = None

UTC = civicgrid.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mn", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=20), nullable=False),
        sa.Column("street_code", sa.String(length=20), nullable=False),
        sa.Column("password", sa.String(length=64), nullable=False),
        sa.Column("target_class", sa.String(length=4), nullable=True),
        sa.Column("lake", sa.Boolean(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("permit_limits", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("mn", name=op.f("uq_stations_mn")),
    )
    op.create_index(op.f("ix_stations_grid_code"), "stations", ["grid_code"])
    op.create_index(op.f("ix_stations_street_code"), "stations", ["street_code"])
    op.create_table(
        "station_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("vmin", sa.Float(), nullable=True),
        sa.Column("vmax", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=2), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_readings_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_readings")),
        sa.UniqueConstraint("station_id", "window", "code", "at", name="uq_station_readings_key"),
    )
    op.create_index("ix_station_readings_window_at", "station_readings", ["window", "at"])


def downgrade() -> None:
    op.drop_index("ix_station_readings_window_at", table_name="station_readings")
    op.drop_table("station_readings")
    op.drop_index(op.f("ix_stations_street_code"), table_name="stations")
    op.drop_index(op.f("ix_stations_grid_code"), table_name="stations")
    op.drop_table("stations")
