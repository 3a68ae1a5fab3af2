"""Request-scoped dependencies shared by every router: the unit-of-work session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from civicgrid.db import get_engine, session_factory

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: commits when the endpoint returns, rolls back on any error."""
    factory = session_factory(get_engine(), write=request.method not in _READ_METHODS)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": commit before the response is sent, so that no client is told "done" about a write that
# then fails (and SQLite's write lock is not held while the response travels).
DbSession = Annotated[Session, Depends(get_session, scope="function")]

# A database row id in a URL: bounded, so a huge number is a clear 422 and never reaches the driver.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="编号")]
