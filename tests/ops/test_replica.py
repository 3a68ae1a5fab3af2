"""The read replica's routing (replica.py): where dashboard and analytics reads go, and that a dead replica
never breaks the leader's page. The live drill with a real streaming replica is test_replica_drill.py."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid import replica
from civicgrid.org.tokens import issue_token
from civicgrid.settings import get_settings


def _token(session: Session, username: str) -> str:
    from civicgrid.models import User

    user_id = session.scalar(select(User.id).where(User.username == username))
    assert user_id is not None
    issued: Any = issue_token(user_id)
    return str(issued[0] if isinstance(issued, tuple) else issued)


@pytest.fixture
def dead_replica(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A read URL nobody listens on (port 1 on loopback refuses at once)."""
    monkeypatch.setenv("CIVICGRID_READ_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    get_settings.cache_clear()
    replica.reset()
    yield
    monkeypatch.delenv("CIVICGRID_READ_DATABASE_URL")
    get_settings.cache_clear()
    replica.reset()


def test_lag_is_zero_only_for_a_streaming_caught_up_standby() -> None:
    assert replica.lag_seconds(False, False, False, None) == 0.0  # a primary (or a promoted standby)
    assert replica.lag_seconds(True, True, True, 99.0) == 0.0  # replayed all it received while streaming
    assert replica.lag_seconds(True, True, False, 2.5) == 2.5  # replay behind: the last replayed commit's age
    assert replica.lag_seconds(True, False, True, 40.0) == 40.0  # cut off from the primary: it ages
    assert math.isinf(replica.lag_seconds(True, False, True, None))  # never replayed anything
    # After a quiet spell the last replayed commit is old, but the replica was caught up 0.8 s ago.
    assert replica.lag_seconds(True, True, False, 600.0, since_caught_up_s=0.8) == 0.8
    assert replica.lag_seconds(True, True, False, 0.3, since_caught_up_s=5.0) == 0.3
    assert replica.lag_seconds(True, False, False, 600.0, since_caught_up_s=0.8) == 600.0  # not streaming


def test_reads_go_to_the_replica_only_when_fresh_reachable_and_not_pinned() -> None:
    assert replica.choose(0.2, 30) == "replica"
    assert replica.choose(30.0, 30) == "replica"
    assert replica.choose(31.0, 30) == "primary"
    assert replica.choose(None, 30) == "primary"  # unreachable
    assert replica.choose(0.0, 30, pinned=True) == "primary"  # this browser just made a change


def test_without_a_replica_the_dashboard_reads_the_primary_and_says_so(client: Any, session: Session) -> None:
    assert get_settings().read_database_url == ""
    client.cookies.set("civicgrid_token", _token(session, "leader"))
    r = client.get("/leader")
    assert r.status_code == 200
    assert r.headers[replica.SOURCE_HEADER] == "primary"
    assert replica.LAG_HEADER not in r.headers
    r = client.get("/web/api/leader/grids")
    assert r.status_code == 200 and r.headers[replica.SOURCE_HEADER] == "primary"
    client.cookies.clear()
    r = client.get(
        "/api/v1/analytics/dashboard", headers={"Authorization": f"Bearer {_token(session, 'leader')}"}
    )
    assert r.status_code == 200 and r.headers[replica.SOURCE_HEADER] == "primary"


def test_a_dead_replica_falls_back_to_the_primary(client: Any, session: Session, dead_replica: None) -> None:
    client.cookies.set("civicgrid_token", _token(session, "leader"))
    for _ in range(2):  # the first finds it down, the second is within read_retry_s: no new attempt
        r = client.get("/leader")
        assert r.status_code == 200
        assert "上报数" in r.text
        assert r.headers[replica.SOURCE_HEADER] == "primary"
        assert replica.LAG_HEADER not in r.headers
    rep = replica._replica()
    assert rep is not None and rep.lag_s is None and rep.down_until > 0
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {_token(session, 'leader')}"}
    r = client.get("/api/v1/analytics/spikes", headers=bearer)
    assert r.status_code == 200 and r.headers[replica.SOURCE_HEADER] == "primary"
