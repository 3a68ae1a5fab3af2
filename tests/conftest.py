"""Test harness: a database built by the real migrations on SQLite or PostgreSQL (CIVICGRID_TEST_DB), seeded
once with the demo district (no history), and a transaction per test that is rolled back."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="civicgrid-test-"))
BACKEND = os.environ.get("CIVICGRID_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "CIVICGRID_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DB = f"civicgrid_test_{os.getpid()}"  # one database per run, so parallel runs never collide
PG_URL = os.environ.get("CIVICGRID_TEST_PG_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}")
os.environ.setdefault("CIVICGRID_ENV", "test")
os.environ["CIVICGRID_DATA_DIR"] = str(_TMP / "data")
os.environ["CIVICGRID_DATABASE_URL"] = PG_URL if BACKEND == "postgresql" else f"sqlite:///{_TMP / 'test.db'}"

sys.path.insert(0, str(Path(__file__).parent))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

DB_FIXTURES = {"db", "session", "client", "seeded", "tokens", "auth"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _prepare_postgres() -> None:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {PG_DB}"))
        admin.dispose()
    except Exception as exc:  # a missing server
        if os.environ.get("CI") == "true":
            pytest.exit(f"PostgreSQL is required in CI but is not reachable: {exc}", returncode=3)
        print(f"\n*** PostgreSQL not reachable ({exc}); PostgreSQL tests are SKIPPED ***\n", file=sys.stderr)
        pytest.skip("PostgreSQL not reachable", allow_module_level=True)


@pytest.fixture(scope="session")
def plan() -> object:
    """The generated demo district plan (geometry only, no database), built once per run."""
    from civicgrid.demo.district import generate_demo_district

    return generate_demo_district()


@pytest.fixture(scope="session")
def db() -> Iterator[object]:
    """The migrated, seeded database engine (built once per test run)."""
    if BACKEND == "postgresql":
        _prepare_postgres()
    from civicgrid.db import get_engine, unit_of_work
    from civicgrid.demo.build import build_district
    from civicgrid.migrate import upgrade
    from civicgrid.settings import get_settings

    upgrade(get_settings().database_url)
    engine = get_engine()
    with unit_of_work(engine) as s:
        build_district(s)
    yield engine
    engine.dispose()
    if BACKEND == "postgresql":
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def session(db: object) -> Iterator[Session]:
    from civicgrid import refcache
    from civicgrid.geo import service

    refcache.invalidate()  # nothing cached from another test's rolled-back rows
    from civicgrid.cases import tracking

    tracking.clients.clear()  # wrong tracking codes of earlier tests do not count against this one
    engine = db
    conn = engine.connect()  # type: ignore[attr-defined]
    trans = conn.begin()
    s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False)
    try:
        yield s
    finally:
        s.close()
        trans.rollback()
        conn.close()
        # A test that made a grid generation leaves a locator for rows that were rolled back.
        from civicgrid.models import GridGeneration

        with Session(bind=engine) as check:  # type: ignore[call-overload]
            live = set(check.scalars(select(GridGeneration.id)))
        if set(service._cache) - live:
            service.invalidate()


@pytest.fixture
def client(session: Session) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from civicgrid.app import create_app
    from civicgrid.deps import get_session

    # CIVICGRID_TEST_DOMAINS names the domains to mount beside the core ("" = the core alone), e.g. while a
    # domain is being built.
    only = os.environ.get("CIVICGRID_TEST_DOMAINS")
    app = create_app(None if only is None else [d for d in only.split(",") if d])

    def request_session() -> Iterator[Session]:
        """Like the real dependency (commit at the end, roll back on error), inside the test's transaction."""
        session.flush()
        nested = session.begin_nested()  # the request's own unit of work; the test's setup stays put
        try:
            yield session
            if nested.is_active:
                nested.commit()
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise

    app.dependency_overrides[get_session] = request_session
    # Security-log writes made in their own short transaction (exports) land in the test's transaction.
    from civicgrid.security.exportlog import get_writer

    app.dependency_overrides[get_writer] = lambda: lambda work: work(session)
    with TestClient(app, raise_server_exceptions=True) as c:
        yield c


MQTT_URL = os.environ.get("CIVICGRID_TEST_MQTT", "mqtt://127.0.0.1:1883")


@pytest.fixture(scope="session")
def mqtt_broker() -> str:
    """The MQTT broker the MQTT tests talk to (Mosquitto on 1883 unless CIVICGRID_TEST_MQTT says otherwise).

    A missing broker skips those tests on a developer's machine but fails them in CI (CI=true), as PostgreSQL.
    """
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(MQTT_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 1883), timeout=3).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"MQTT broker required in CI; {MQTT_URL} unreachable: {exc}", pytrace=False)
        print(f"\n*** MQTT broker {MQTT_URL} unreachable ({exc}); MQTT tests SKIPPED ***\n", file=sys.stderr)
        pytest.skip(f"MQTT broker not reachable at {MQTT_URL}")
    return MQTT_URL
