"""case search (address and description full text)

Revision ID: 0013_case_search
Revises: 0012_note_visibility
Create Date: 2026-11-30

Substring search over a case's number, address and description (cases/search.py), indexed per backend:

- SQLite: an FTS5 index ``case_search`` with the trigram tokenizer (``detail=none``: the index only says
  which cases hold every trigram; the query re-checks the text), external content (the text stays in
  ``cases``), kept by triggers so every writer — the case engine, bulk loads of the demo, a restore —
  keeps it current. Address and description are indexed with one trailing space, so that every
  two-character string of the text begins a trigram: a two-character query (垃圾) is expanded through the
  vocabulary table ``case_search_vocab`` to the trigrams starting with it.
  A later migration that rebuilds ``cases`` with ``batch_alter_table`` drops these triggers: it must call
  ``create_triggers()`` from this module again (and the FTS index needs no rebuild: ids are kept).
- PostgreSQL: a GIN index with pg_trgm's ``gin_trgm_ops`` on the three columns, when the server offers
  the extension; without it the search is the same ILIKE, unindexed (correct, slower).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_case_search"
down_revision = "0012_note_visibility"
branch_labels = None
depends_on = None

_INDEXED = "{p}.number, {p}.address || ' ', {p}.description || ' '"
TRIGGERS = {
    "case_search_ai": "AFTER INSERT ON cases BEGIN "
    "INSERT INTO case_search(rowid, number, address, description) VALUES (new.id, "
    + _INDEXED.format(p="new")
    + "); END",
    "case_search_ad": "AFTER DELETE ON cases BEGIN "
    "INSERT INTO case_search(case_search, rowid, number, address, description) VALUES ('delete', old.id, "
    + _INDEXED.format(p="old")
    + "); END",
    "case_search_au": "AFTER UPDATE OF number, address, description ON cases BEGIN "
    "INSERT INTO case_search(case_search, rowid, number, address, description) VALUES ('delete', old.id, "
    + _INDEXED.format(p="old")
    + "); "
    "INSERT INTO case_search(rowid, number, address, description) VALUES (new.id, "
    + _INDEXED.format(p="new")
    + "); END",
}


def create_triggers() -> None:
    for name, body in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE case_search USING fts5(number, address, description, "
            "content='cases', content_rowid='id', tokenize='trigram', detail='none')"
        )
        op.execute("CREATE VIRTUAL TABLE case_search_vocab USING fts5vocab(case_search, 'row')")
        op.execute(
            "INSERT INTO case_search(rowid, number, address, description) SELECT cases.id, "
            + _INDEXED.format(p="cases")
            + " FROM cases"
        )
        create_triggers()
    elif bind.dialect.name == "postgresql":
        available = bind.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"))
        if not available:
            return
        try:  # a server that offers it but refuses this role leaves the search unindexed
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError:
            return
        op.execute(
            "CREATE INDEX ix_cases_search_trgm ON cases USING gin "
            "(number gin_trgm_ops, address gin_trgm_ops, description gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search_vocab")
        op.execute("DROP TABLE IF EXISTS case_search")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search_trgm")
