"""notes public or internal; attachments labelled by step

Revision ID: 0012_note_visibility
Revises: 0011_chain_link_at_commit
Create Date: 2026-11-30

``case_events.public``: every event written before this revision becomes internal (内部). Those notes
were written when staff had no choice to make, and some of them (核查 remarks, supervision opinions) were
never meant for the public: hiding an old note that could have been shown costs a line of text on the
tracking page (the step and the state still show), showing one that should not have been cannot be undone.
Internal is also the value that leaves every existing link of the case-event hash chain valid: the chain
covers ``public`` only when it is true (cases/events.py).

``attachments.step``: the action that added each attached photo, filled from the events that list it (a photo
attached by no event keeps NULL and shows as 其他).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012_note_visibility"
down_revision = "0011_chain_link_at_commit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=24), nullable=True))
    _label_steps()


def _label_steps() -> None:
    bind = op.get_bind()
    events = sa.table(
        "case_events",
        sa.column("id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("attachment_ids", sa.JSON),
    )
    attachments = sa.table("attachments", sa.column("id", sa.Integer), sa.column("step", sa.String))
    steps: dict[int, str] = {}
    rows = bind.execute(sa.select(events.c.action, events.c.attachment_ids).order_by(events.c.id))
    for action, ids in rows:
        if isinstance(ids, str):
            ids = json.loads(ids or "[]")
        for att_id in ids or []:
            steps.setdefault(int(att_id), str(action)[:24])  # the first event that listed the photo added it
    for action in sorted(set(steps.values())):
        ids = [i for i, a in steps.items() if a == action]
        for start in range(0, len(ids), 500):
            bind.execute(
                attachments.update().where(attachments.c.id.in_(ids[start : start + 500])).values(step=action)
            )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("step")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_column("public")
