"""Following a case by its number and anonymous tracking code (查询码), with failed attempts throttled.

``open_tracked`` is the one gate in front of every place a code is accepted: the JSON API's tracking and
rating, its photos, and the web's tracking page, rating form and photos. It checks, in order:

1. the client (address) has not failed ``code_failures_per_client`` times in the window (per process);
2. the number exists, and a logged-in reporter's own case needs no code;
3. the case is not locked by ``code_failures_per_case`` failures in the window (in the database, across
   processes) — while it is locked even the right code is refused, so the lock does not tell a guesser when
   they hit;
4. the code opens the case (security/codes.py).

A wrong code counts against both the client and the case; the failure that reaches a limit is answered 429
with ``Retry-After``, and so is every attempt until the window has passed. A missing code is not a guess and
is not counted. A code *remembered* by the web (in the signed tracking cookie, set only after the code was
shown or proven) skips both limits: its holder already knows the code, so a guesser's lock must not shut
them out.

A failure is stored even though the request then fails: in the request's own session, committed at once, when
that session may write (a POST, PostgreSQL, or a session joined to a caller's connection); otherwise (a GET on
SQLite, whose read sessions must not write) in a short write session of its own.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from civicgrid.cases import repository
from civicgrid.errors import NotFound, TooManyAttempts
from civicgrid.models import Case, CodeAttempt, utcnow
from civicgrid.security import codes
from civicgrid.security.attempts import ClientLimiter, Counter, after_failure, retry_after
from civicgrid.settings import Settings, get_settings

MISMATCH = "案卷号或查询码不正确"

clients = ClientLimiter()  # this process's failures per client address


def _too_many(seconds: int) -> TooManyAttempts:
    minutes = max(1, math.ceil(seconds / 60))
    return TooManyAttempts(f"查询码错误次数过多，请 {minutes} 分钟后再试", retry_after=seconds)


def open_tracked(
    session: Session,
    number: str,
    code: str | None,
    *,
    client: str,
    user_id: int | None = None,
    remembered: bool = False,
) -> Case:
    """The case ``number`` if ``code`` opens it (or ``user_id`` reported it); NotFound or TooManyAttempts."""
    s = get_settings()
    per_client, window_s = s.code_failures_per_client, s.code_failure_window_s
    typed = codes.normalise(code)
    if not remembered:
        wait = clients.retry_after(client, time.monotonic(), per_client, window_s)
        if wait:
            raise _too_many(wait)
    case = repository.get_by_number(session, number.strip().upper())
    if case is None:
        if typed and not remembered:
            wait = _client_failed(client, per_client, window_s)
            if wait:
                raise _too_many(wait)
        raise NotFound(MISMATCH)
    if user_id is not None and case.reporter_user_id == user_id:
        return case
    if not typed:
        raise NotFound(MISMATCH)
    if remembered:
        if codes.opens(case.query_code_hash, typed):
            return case
        raise NotFound(MISMATCH)

    now = utcnow()
    wait = retry_after(_counter(session.get(CodeAttempt, case.id)), now)
    if wait:
        raise _too_many(wait)
    if codes.opens(case.query_code_hash, typed):
        return case
    counter = _record_failure(session, case.id, now, s)
    wait = max(retry_after(counter, now), _client_failed(client, per_client, window_s))
    if wait:
        raise _too_many(wait)
    raise NotFound(MISMATCH)


def _client_failed(client: str, limit: int, window_s: int) -> int:
    """Count a failure against the client; the seconds it must now wait (the failure that reaches the limit is
    already answered 429)."""
    mono = time.monotonic()
    clients.fail(client, mono, limit, window_s)
    return clients.retry_after(client, mono, limit, window_s)


def _counter(row: CodeAttempt | None) -> Counter:
    if row is None:
        return Counter()
    return Counter(row.failures, row.window_start, row.locked_until)


def _may_write(session: Session) -> bool:
    bind = session.get_bind()
    if isinstance(bind, Connection) or bind.dialect.name != "sqlite":
        return True
    return bool(bind.get_execution_options().get("sqlite_immediate"))


def _record_failure(session: Session, case_id: int, now: datetime, s: Settings) -> Counter:
    if _may_write(session):
        counter = _bump(session, case_id, now, s)
        session.commit()  # kept, although the request now fails and rolls back
        return counter
    from civicgrid.db import unit_of_work

    with unit_of_work(session.get_bind(), write=True) as own:  # type: ignore[arg-type]
        return _bump(own, case_id, now, s)


def _bump(session: Session, case_id: int, now: datetime, s: Settings) -> Counter:
    """One more failure on the case's counter, under a row lock (PostgreSQL) or the write lock (SQLite)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CodeAttempt)
        .values(case_id=case_id, failures=0)
        .on_conflict_do_nothing(index_elements=["case_id"])
    )
    row = session.get(CodeAttempt, case_id, with_for_update=True, populate_existing=True)
    assert row is not None
    counter = after_failure(_counter(row), now, s.code_failures_per_case, s.code_failure_window_s)
    row.failures, row.window_start, row.locked_until = (
        counter.failures,
        counter.window_start,
        counter.locked_until,
    )
    session.flush()
    return counter
