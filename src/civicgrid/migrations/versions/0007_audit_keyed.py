"""keyed audit chain links and checkpoints (issue 11, defects 5 and 15)

Existing links stay as they are and are marked ``sha256`` (legacy, plain SHA-256); every row appended after
this revision is linked with a keyed MAC (``hmac-sha256`` or ``hmac-sm3``, security/chain.py). The head row
records the last legacy seq (``legacy_seq``), which the head's MAC covers from the first keyed append on, so
the legacy prefix verifies as before and cannot be extended with forged unkeyed rows. No key is needed to run
this migration. Run ``civicgrid audit checkpoint`` right after it to anchor the legacy heads outside the
database.

Downgrade drops the columns: keyed links written since then no longer verify under the old code.

Revision ID: 0007_audit_keyed
Revises: 0006_token_version
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_keyed"
down_revision = "0006_token_version"
branch_labels = None
depends_on = None

EVENT_TABLES = ("case_events", "security_events")


def upgrade() -> None:
    with op.batch_alter_table("chain_heads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alg", sa.String(length=16), nullable=False, server_default="sha256"))
        batch_op.add_column(sa.Column("legacy_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    op.execute("UPDATE chain_heads SET legacy_seq = seq")
    for table in EVENT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("link_alg", sa.String(length=16), nullable=False, server_default="sha256")
            )


def downgrade() -> None:
    for table in EVENT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("link_alg")
    with op.batch_alter_table("chain_heads", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("legacy_seq")
        batch_op.drop_column("alg")
