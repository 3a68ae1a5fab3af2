"""station rules and exceedance episodes (issue 14)

The rule table starts with the defaults of SPEC §10 (written out here as data: a migration must not change
when the code's defaults do); an admin edits threshold, consecutive and enabled. ``category_code`` has no
foreign key: the rules are seeded here, before ``civicgrid seed`` loads the catalogue (E0606–E0608 included).

Revision ID: 0017_station_alarms
Revises: 0016_station_aggregates
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0017_station_alarms"
down_revision = "0016_station_aggregates"
branch_labels = None
depends_on = None

UTC_TS = civicgrid.models.base.UTCDateTime(timezone=True)

# code, station kind, measure, window, threshold, consecutive, category, urgent, label
DEFAULTS = (
    ("air-aqi", "air", "AQI", "hour", 200.0, 2, "E0601", True, "小时 AQI 超过 200 连续 2 小时"),
    (
        "dust-pm10",
        "dust",
        "a34002",
        "hour",
        150.0,
        2,
        "E0302",
        False,
        "PM10 小时均值超过 150 μg/m³ 连续 2 小时",
    ),
    ("water-class", "water", "class", "hour", None, 2, "E0606", False, "水质类别劣于断面目标 连续 2 次"),
    ("source-permit", "source", "permit", "hour", None, 1, "E0608", True, "排放超过许可限值"),
    ("silence", "*", "silence", "realtime", 3.0, 1, "E0607", False, "连续 3 个周期无数据"),
    ("fault", "*", "fault", "hour", None, 1, "E0607", False, "设备故障标记（D/F/B）持续 1 小时"),
)


def upgrade() -> None:
    rules = op.create_table(
        "station_rules",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("station_kind", sa.String(length=8), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("window", sa.String(length=8), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("consecutive", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=8), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_station_rules")),
    )
    op.create_table(
        "station_episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("rule_code", sa.String(length=24), nullable=False),
        sa.Column("over_run", sa.Integer(), nullable=False),
        sa.Column("normal_run", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("recovered", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UTC_TS, nullable=True),
        sa.Column("last_at", UTC_TS, nullable=True),
        sa.Column("ended_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_episodes_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_code"], ["station_rules.code"], name=op.f("fk_station_episodes_rule_code_station_rules")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_station_episodes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_episodes")),
    )
    op.create_index(op.f("ix_station_episodes_case_id"), "station_episodes", ["case_id"])
    op.create_index(
        "uq_station_episodes_current",
        "station_episodes",
        ["station_id", "rule_code"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "code": code,
                "station_kind": kind,
                "measure": measure,
                "window": window,
                "threshold": threshold,
                "consecutive": consecutive,
                "category_code": category,
                "urgent": urgent,
                "label": label,
                "enabled": True,
                "updated_at": now,
            }
            for code, kind, measure, window, threshold, consecutive, category, urgent, label in DEFAULTS
        ],
    )


def downgrade() -> None:
    op.drop_index("uq_station_episodes_current", table_name="station_episodes")
    op.drop_index(op.f("ix_station_episodes_case_id"), table_name="station_episodes")
    op.drop_table("station_episodes")
    op.drop_table("station_rules")
