"""upload ownership and orphan sweeping (issue 11, defects 11 and 12)

Revision ID: 0008_upload_owner
Revises: 0007_audit_keyed
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_upload_owner"
down_revision = "0007_audit_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Uploads made before this revision keep no token: an anonymous one among them can no longer be attached
    # (it is swept a day later), a user's one still belongs to ``uploaded_by``.
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_attachments_client_created", ["client_hash", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_client_created")
        batch_op.drop_column("client_hash")
        batch_op.drop_column("upload_token_hash")
