"""request body digest on idempotency keys (issue 11, defect 7)

Revision ID: 0009_idempotency_digest
Revises: 0008_upload_owner
Create Date: 2026-11-30
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0009_idempotency_digest"
down_revision = "0008_upload_owner"
branch_labels = None
depends_on = None


_keys = sa.table("idempotency_keys", sa.column("id", sa.Integer), sa.column("scope", sa.String))


def _rescope(rename: dict[str, str], drop_other: bool) -> None:
    """Rename the scopes of keys (``rename``: pattern → template); ``drop_other``: delete the rest."""
    conn = op.get_bind()
    for row_id, scope in conn.execute(sa.select(_keys.c.id, _keys.c.scope)).all():
        new = next((re.sub(pat, tpl, scope) for pat, tpl in rename.items() if re.match(pat, scope)), None)
        if new is not None:
            conn.execute(_keys.update().where(_keys.c.id == row_id).values(scope=new))
        elif drop_other:
            conn.execute(_keys.delete().where(_keys.c.id == row_id))


def upgrade() -> None:
    # Scopes now name the caller (``reports:user:7``, ``open311:json:apikey:3``) or, for anonymous callers,
    # hold the body's digest (``reports:anon:<64 hex>``).
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column(
            "scope", existing_type=sa.String(80), type_=sa.String(160), existing_nullable=False
        )
    # Keys of known callers keep working under their new scope (their stored hashes, from before digests, no
    # longer match any body: a retry is refused with 422 rather than answered blindly). The one scope all
    # anonymous reporters shared is dropped: its answers hold query codes and could be replayed to anyone.
    _rescope(
        {r"^reports:(\d+)$": r"reports:user:\1", r"^open311:(\d+):(\w+)$": r"open311:\2:apikey:\1"}, True
    )


def downgrade() -> None:
    _rescope(
        {r"^reports:user:(\d+)$": r"reports:\1", r"^open311:(\w+):apikey:(\d+)$": r"open311:\2:\1"}, True
    )
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column(
            "scope", existing_type=sa.String(160), type_=sa.String(80), existing_nullable=False
        )
