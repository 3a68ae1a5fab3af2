"""Reads that may be served by a streaming replica: the leader dashboard and the analytics reads (and the
warehouse refresh), never anything else.

With ``CIVICGRID_READ_DATABASE_URL`` empty every read goes to the primary, as before. With a replica set:
- ``ReadSession`` (a request dependency) gives a read-only session on the replica while it is at most
  ``read_max_lag_s`` behind, and on the primary otherwise: when the replica lags further, cannot be reached
  (it is then left alone for ``read_retry_s``), or right after this browser made a change through a page
  that reads here (``pin_primary``: the leader sees the case they just supervised).
- Each answer says where it was read: ``X-CivicGrid-Read-Source: replica|primary`` and, when measured,
  ``X-CivicGrid-Replica-Lag`` in seconds.
- Writes, logins and tokens, case pages and everything followed by a write keep using ``deps.DbSession``
  (the primary). The replica refuses writes anyway (it is a hot standby).

Lag is measured on the replica itself, at most once a second per process: zero when it has replayed all the
WAL it received while streaming, otherwise the age of the last transaction it replayed (while streaming, no
more than the time since this process last saw it caught up). A replica cut off from the primary therefore
ages, and falls back to the primary, instead of claiming to be current.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import Depends, Request, Response
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from civicgrid.db import committing, get_engine, session_factory
from civicgrid.deps import DbSession
from civicgrid.settings import get_settings

log = logging.getLogger(__name__)

Source = Literal["primary", "replica"]
SOURCE_HEADER = "X-CivicGrid-Read-Source"
LAG_HEADER = "X-CivicGrid-Replica-Lag"
PIN_COOKIE = "civicgrid_read_primary"
CHECK_EVERY_S = 1.0
CONNECT_TIMEOUT_S = 2

# Without pg_read_all_stats a role sees only the WAL receiver's pid, not its status: a receiver then counts as
# streaming while it runs.
LAG_SQL = text(
    "SELECT pg_is_in_recovery(),"
    " COALESCE((SELECT coalesce(status = 'streaming', pid IS NOT NULL) FROM pg_stat_wal_receiver LIMIT 1),"
    " false),"
    " pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)


# --- Pure decisions -----------------------------------------------------------------------------------------


def lag_seconds(
    in_recovery: bool,
    streaming: bool,
    caught_up: bool,
    replay_age_s: float | None,
    since_caught_up_s: float | None = None,
) -> float:
    """How far behind the primary a server is, from what it reports about itself.

    Replaying, it is at most as far behind as its last replayed commit is old — and, while streaming, at most
    as long as since it was last seen caught up (``since_caught_up_s``): after a quiet spell the last commit
    is old although the replica is only a moment behind."""
    if not in_recovery:
        return 0.0  # not a standby (promoted, or the URL names a primary): nothing to wait for
    if streaming and caught_up:
        return 0.0
    age = max(0.0, replay_age_s) if replay_age_s is not None else math.inf
    if streaming and since_caught_up_s is not None:
        return min(age, since_caught_up_s)
    return age


def choose(lag_s: float | None, max_lag_s: float, *, pinned: bool = False) -> Source:
    """Where a dashboard read goes. ``lag_s`` None means the replica could not be reached."""
    if pinned or lag_s is None or lag_s > max_lag_s:
        return "primary"
    return "replica"


# --- The replica's state in this process --------------------------------------------------------------------


@dataclass
class _Replica:
    engine: Engine
    lock: threading.Lock
    checked_at: float = -math.inf
    lag_s: float | None = None
    down_until: float = 0.0
    caught_up_at: float | None = None

    def mark_down(self, exc: BaseException) -> None:
        retry = get_settings().read_retry_s
        with self.lock:
            self.lag_s, self.checked_at, self.caught_up_at = None, time.monotonic(), None
            self.down_until = self.checked_at + retry
        log.warning("只读副本不可用，%.0f 秒内改从主库读取：%s", retry, exc.__class__.__name__)

    def current_lag(self) -> float | None:
        with self.lock:
            now = time.monotonic()
            if now < self.down_until:
                return None
            if now - self.checked_at >= CHECK_EVERY_S:
                self.checked_at = now
                try:
                    with self.engine.connect() as conn:
                        row = conn.execute(LAG_SQL).one()
                    age = float(row[3]) if row[3] is not None else None
                    since = now - self.caught_up_at if self.caught_up_at is not None else None
                    self.lag_s = lag_seconds(bool(row[0]), bool(row[1]), bool(row[2]), age, since)
                    if self.lag_s == 0.0:
                        self.caught_up_at = now
                except DBAPIError as exc:
                    self.lag_s, self.down_until = None, now + get_settings().read_retry_s
                    self.caught_up_at = None
                    log.warning("只读副本不可用，改从主库读取：%s", exc.__class__.__name__)
            return self.lag_s


@lru_cache
def _replica() -> _Replica | None:
    url = get_settings().read_database_url.strip()
    if not url:
        return None
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {},
    )
    return _Replica(engine, threading.Lock())


def reset() -> None:
    """Forget the replica engine and its state (tests, or after the settings changed)."""
    rep = _replica()
    if rep is not None:
        rep.engine.dispose()
    _replica.cache_clear()


@dataclass(frozen=True)
class Route:
    engine: Engine
    source: Source
    lag_s: float | None


def route(*, pinned: bool = False) -> Route:
    """The engine for a dashboard or analytics read now."""
    rep = _replica()
    if rep is None:
        return Route(get_engine(), "primary", None)
    lag = rep.current_lag()
    if choose(lag, get_settings().read_max_lag_s, pinned=pinned) == "replica":
        return Route(rep.engine, "replica", lag)
    return Route(get_engine(), "primary", lag)


def read_engine() -> Engine:
    """The engine for a read outside a request (the warehouse refresh)."""
    return route().engine


# --- Request glue -------------------------------------------------------------------------------------------


def _replica_session(r: Route) -> Session | None:
    """A session on the replica, its connection checked out (and pinged) before the page reads; None when the
    replica cannot be reached (it is then left alone for ``read_retry_s``)."""
    session = session_factory(r.engine, write=False)()
    try:
        session.connection()
        return session
    except DBAPIError as exc:
        session.close()
        rep = _replica()
        if rep is not None:
            rep.mark_down(exc)
        return None


def _label(r: Route) -> dict[str, str]:
    headers: dict[str, str] = {SOURCE_HEADER: r.source}
    if r.lag_s is not None and math.isfinite(r.lag_s):
        headers[LAG_HEADER] = f"{r.lag_s:.3f}"
    return headers


def get_read_session(request: Request, response: Response, primary: DbSession) -> Iterator[Session]:
    """A read-only session on the replica (when configured and fresh enough), else the request's own session
    on the primary (the one the login check uses: no second connection)."""
    r = route(pinned=PIN_COOKIE in request.cookies)
    session = _replica_session(r) if r.source == "replica" else None
    if session is None and r.source == "replica":
        r = Route(get_engine(), "primary", None)  # the replica just failed: its last lag is no longer known
    labels = _label(r)
    request.state.read_labels = labels
    response.headers.update(labels)
    if session is None:
        yield primary
        return
    with committing(session):
        yield session


ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]


def label(request: Request, response: Response) -> Response:
    """Copy the read-source headers onto a response the endpoint built itself (pages, GeoJSON)."""
    response.headers.update(getattr(request.state, "read_labels", {}))
    return response


def pin_primary(response: Response) -> None:
    """After a change made through a page that reads here: read this browser's next pages from the primary
    for as long as the replica may be behind, so the change is seen at once."""
    if _replica() is not None:
        max_age = max(1, math.ceil(get_settings().read_max_lag_s))
        response.set_cookie(PIN_COOKIE, "1", max_age=max_age, httponly=True, samesite="lax", path="/")
