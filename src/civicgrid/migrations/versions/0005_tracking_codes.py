"""keyed HMAC of anonymous tracking codes (issue 11, defect 1)

Revision ID: 0005_tracking_codes
Revises: 0004_totp
Create Date: 2026-11-30

- ``code_attempts``: failed code attempts per case, shared by every worker process (cases/tracking.py).
- Every stored ``cases.query_code_hash`` of the old scheme (the phone normaliser's digest, which kept only the
  code's digits) is wrapped as ``v1$`` + HMAC(tracking-code key, ``legacy:`` + old digest); see
  security/codes.py for why wrapping, and how a legacy code is still accepted (exactly, and throttled).

The wrap needs the tracking-code key, so this revision must run with the same ``CIVICGRID_SECRET_KEY`` /
``CIVICGRID_TRACKING_CODE_KEY`` as the servers. Downgrade drops the table but cannot unwrap the digests (an
HMAC is one-way): after a downgrade, anonymous codes no longer open their cases.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base
from civicgrid.security import codes

revision = "0005_tracking_codes"
down_revision = "0004_totp"
branch_labels = None
depends_on = None


def rewrap(conn: sa.Connection, batch: int = 5000) -> int:
    """Wrap every old-scheme digest in place, in batches by id; returns how many rows changed (idempotent)."""
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("query_code_hash", sa.String))
    changed, last = 0, 0
    while True:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.query_code_hash)
            .where(cases.c.id > last, cases.c.query_code_hash.is_not(None))
            .order_by(cases.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        for case_id, stored in rows:
            if stored and not codes.is_wrapped(stored):
                conn.execute(
                    cases.update()
                    .where(cases.c.id == case_id)
                    .values(query_code_hash=codes.wrap_legacy(stored))
                )
                changed += 1
        last = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "code_attempts",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", civicgrid.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", civicgrid.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_code_attempts_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_code_attempts")),
    )
    rewrap(op.get_bind())


def downgrade() -> None:
    op.drop_table("code_attempts")
