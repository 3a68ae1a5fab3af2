"""A login in two steps, so that password hashing (argon2, a tenth of a second of CPU) never runs while the
request holds SQLite's write turn: first the password is verified through the request's read session, then
the outcome — the failure count, a lockout, the audit row — is recorded in one short write (deps.run_write).
Both the API's token endpoint and the web login use it."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicgrid.deps import run_write
from civicgrid.errors import Unauthorized
from civicgrid.models import User
from civicgrid.org.service import authenticate, verify_login


async def log_in(session: Session, username: str, password: str, ip: str, otp: str | None) -> User:
    """The user whose password (and one-time code) this is; raises Unauthorized once the refusal is
    recorded and committed."""
    checked = await run_in_threadpool(verify_login, session, username, password)

    def record() -> User:
        try:
            return authenticate(session, username, password, ip, otp, checked=checked)
        except Unauthorized:
            session.commit()  # keep the failure count and the audit row
            raise

    return await run_write(session, record)
