"""per-user token version and revoked tokens (issue 11, defect 8); usernames in their normal form (defect 14)

Revision ID: 0006_token_version
Revises: 0005_tracking_codes
Create Date: 2026-11-30
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

import civicgrid.models.base

revision = "0006_token_version"
down_revision = "0005_tracking_codes"
branch_labels = None
depends_on = None


def _normal(name: str) -> str:
    # Frozen copy of org/usernames.py's normal form (NFKC, trimmed, case-folded) as of this revision.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", civicgrid.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_revoked_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_tokens_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_revoked_tokens_user_id"), ["user_id"], unique=False)

    # Usernames are now stored in their normal form, and a login is looked up by it: rewrite the ones that
    # are not (e.g. "Admin" → "admin"), unless that would collide with another account (then the old name is
    # kept, and that account logs in only once an admin renames it).
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
    rows = conn.execute(sa.select(users.c.id, users.c.username)).all()
    taken = {name for _, name in rows}
    for user_id, name in rows:
        normal = _normal(name)
        if normal and normal != name and normal not in taken:
            conn.execute(sa.update(users).where(users.c.id == user_id).values(username=normal))
            taken.discard(name)
            taken.add(normal)


def downgrade() -> None:
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_revoked_tokens_expires_at"))
    op.drop_table("revoked_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
