"""Request-scoped dependencies shared by every router: the unit-of-work session, and the rule for writing.

A request's session is made for reads (on SQLite: a deferred ``BEGIN``, no write lock), so the dependencies
that identify the caller, parse forms and so on never take SQLite's write turn. The write itself — the
endpoint's work and its commit — runs in ONE thread-pool hop (``run_write``), after waiting on the event
loop for this process's turn (sqlite_gate.WriteGate.turn): no request holds the turn across a hop or an
await, and none waits for it on a pool thread. ``UnitOfWorkRoute`` does this for every sync endpoint of an
unsafe method (POST, PUT, PATCH, DELETE); an async endpoint calls ``run_write`` for its database step.
The commit still happens before the answer is sent, so no client is told "done" about a write that then
fails.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicgrid.db import committing, get_engine, session_factory, write_gate, write_unit

T = TypeVar("T")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNIT = "civicgrid.unit_of_work"  # Session.info key: this is a request's session, made by get_session


def get_session() -> Iterator[Session]:
    """One session per request, for reads; ``run_write`` makes it write and commit. Whatever is left when
    the endpoint returns is committed (rolled back on any error) before the response is sent."""
    engine = get_engine()
    session = session_factory(engine, write=False)()
    session.info[UNIT] = engine
    with committing(session):
        yield session


# scope="function": the teardown runs before the response is sent.
DbSession = Annotated[Session, Depends(get_session, scope="function")]

# A database row id in a URL: bounded, so a huge number is a clear 422 and never reaches the driver.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="编号")]


async def run_write(session: Session, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` as the request's write: in one thread-pool hop, committed there (rolled back on
    any error); on SQLite only once this process's turn has come, waited for on the event loop.

    ``session`` must be the request's own (``DbSession``); any other session (a test's) is left to whoever
    made it, and ``fn`` simply runs in the pool."""
    engine = session.info.get(UNIT)
    if engine is None:
        return await run_in_threadpool(fn, *args, **kwargs)

    def hop() -> T:
        with write_unit(session):
            return fn(*args, **kwargs)

    gate = write_gate(engine)
    if gate is None:  # PostgreSQL: row locks, no process-wide turn
        return await run_in_threadpool(hop)
    async with gate.turn():
        return await run_in_threadpool(hop)


def _request_session(values: dict[str, Any]) -> Session | None:
    return next((v for v in values.values() if isinstance(v, Session) and UNIT in v.info), None)


def in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A sync endpoint as an async one whose body and commit run in one hop (``run_write``). FastAPI reads
    the parameters and the return type of the original (``functools.wraps``)."""

    @functools.wraps(endpoint)
    async def wrapper(**values: Any) -> Any:
        session = _request_session(values)
        if session is None:  # no session of ours among the arguments: nothing to commit here
            return await run_in_threadpool(functools.partial(endpoint, **values))
        return await run_write(session, functools.partial(endpoint, **values))

    return wrapper


class UnitOfWorkRoute(APIRoute):
    """The route class of every router: a sync endpoint of an unsafe method runs with its commit in one hop
    (see the module docstring); reads and async endpoints are left as they are."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ("GET",)}
        if methods - READ_METHODS and not inspect.iscoroutinefunction(endpoint):
            endpoint = in_one_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)
