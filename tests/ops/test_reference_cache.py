"""Reference data is served from a per-process cache: this process's edits show at once, others' after the
TTL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from civicgrid import refcache
from civicgrid.cases import present
from civicgrid.db import make_engine, session_factory
from civicgrid.models import Category
from civicgrid.settings import get_settings


@pytest.fixture
def tiny_db(tmp_path: Path):
    path = tmp_path / "ref.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE categories (code TEXT PRIMARY KEY, name TEXT, limit_unit TEXT)"))
        conn.execute(text("CREATE TABLE departments (id INTEGER PRIMARY KEY, code TEXT, name TEXT)"))
        conn.execute(text("INSERT INTO categories VALUES ('E0102', '暴露垃圾', 'h')"))
    refcache.invalidate()
    yield path, session_factory(engine)
    refcache.invalidate()
    engine.dispose()


def test_an_edit_in_this_process_is_seen_at_once(tiny_db) -> None:
    _, factory = tiny_db
    with factory() as s:
        assert present.names(s).categories == {"E0102": "暴露垃圾"}
    with factory() as s:
        s.execute(text("UPDATE categories SET name = '暴露垃圾（含堆放）' WHERE code = 'E0102'"))
        s.commit()
    with factory() as s:
        assert present.names(s).categories == {"E0102": "暴露垃圾（含堆放）"}


def test_an_edit_by_another_process_is_seen_after_the_ttl(tiny_db, monkeypatch) -> None:
    path, factory = tiny_db
    monkeypatch.setattr(get_settings(), "reference_cache_s", 0.2)
    with factory() as s:
        assert present.names(s).categories["E0102"] == "暴露垃圾"
    other = sqlite3.connect(path)  # not through SQLAlchemy: this process's watcher cannot see it
    other.execute("UPDATE categories SET name = '垃圾堆放' WHERE code = 'E0102'")
    other.commit()
    other.close()
    with factory() as s:
        assert present.names(s).categories["E0102"] == "暴露垃圾"  # still cached
    import time

    time.sleep(0.25)
    with factory() as s:
        assert present.names(s).categories["E0102"] == "垃圾堆放"


def test_only_writes_to_reference_tables_empty_the_caches() -> None:
    assert refcache._WRITE.match("UPDATE categories SET name=? WHERE categories.code = ?")
    assert refcache._WRITE.match("INSERT INTO user_roles (user_id, role) VALUES (?, ?)")
    assert refcache._WRITE.match('DELETE FROM "areas" WHERE generation_id = ?')
    assert not refcache._WRITE.match("INSERT INTO cases (number) VALUES (?)")
    assert not refcache._WRITE.match("UPDATE chain_heads SET seq=?")
    assert not refcache._WRITE.match("SELECT * FROM categories")
    assert Category.__tablename__ in refcache.REFERENCE_TABLES
