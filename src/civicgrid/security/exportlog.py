"""Exports in the security log: every export (API or command line) records who took it, with which filters,
in which format and how many rows — one ``export`` security event in the hash-chained log.

An export reads a lot and writes one row. The reading runs in the request's read-only session (on SQLite it
must not hold the write turn while a workbook is built; a dashboard read may even come from a replica); the
event is appended in its own short write transaction on the primary, committed before the file is handed
out, so that no export leaves without its trace. Requests get that writer through the ``SecurityLog``
dependency (tests point it at their own transaction); the command line calls ``in_own_transaction``.
"""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from civicgrid.models import SecurityEvent
from civicgrid.security import audit

if TYPE_CHECKING:
    from civicgrid.org.roles import Principal

KIND = "export"

# Runs a piece of work that writes (appending the event) in a write transaction that commits.
Writer = Callable[[Callable[[Session], Any]], Any]


def in_own_transaction(work: Callable[[Session], Any]) -> Any:
    """``work(session)`` in a short write unit of work of its own, committed when it returns."""
    from civicgrid.db import unit_of_work

    with unit_of_work(write=True) as session:
        return work(session)


def get_writer() -> Writer:
    return in_own_transaction


SecurityLog = Annotated[Writer, Depends(get_writer)]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def filters_of(source: Any) -> dict[str, Any]:
    """The filters that were set (a dataclass such as ``CaseFilter`` or a mapping), as JSON values."""
    is_row = dataclasses.is_dataclass(source) and not isinstance(source, type)
    items = dataclasses.asdict(source) if is_row else dict(source)
    return {k: _plain(v) for k, v in items.items() if v is not None and v != [] and v != ""}


def export_data(
    what: str, fmt: str, filters: Mapping[str, Any] | Any, rows: int, channel: str, **extra: Any
) -> dict[str, Any]:
    """The event's data: what was exported, the format, the filters, the row count and the door used."""
    data = {"what": what, "format": fmt, "filters": filters_of(filters), "rows": rows, "channel": channel}
    data.update({k: v for k, v in extra.items() if v is not None})
    return data


def record_export(
    session: Session,
    *,
    actor: Principal | None,
    what: str,
    fmt: str,
    filters: Mapping[str, Any] | Any,
    rows: int,
    channel: str,
    ip: str = "",
) -> SecurityEvent:
    """Append the ``export`` event for ``actor`` (None: the command line, recorded with the OS account)."""
    if actor is not None and actor.user_id is not None:
        user_id, who, extra = actor.user_id, actor.username, {}
    else:
        user_id, who = None, actor.username if actor is not None else "system"
        extra = {"os_user": _os_user()} if channel == "cli" else {}
    data = export_data(what, fmt, filters, rows, channel, username=who, **extra)
    return audit.record(session, KIND, user_id=user_id, subject=f"{what}.{fmt}", ip=ip, data=data)


def log_http_export(
    write: Writer,
    request: Request,
    actor: Principal,
    *,
    what: str,
    fmt: str,
    filters: Mapping[str, Any] | Any,
    rows: int,
    channel: str = "api",
) -> None:
    """Record an export made through HTTP (``channel`` "api", or "web" for a page's 导出 link), committed
    before the answer leaves."""
    ip = request.client.host if request.client else ""
    write(
        lambda s: record_export(
            s, actor=actor, what=what, fmt=fmt, filters=filters, rows=rows, channel=channel, ip=ip
        )
    )


def log_cli_export(*, what: str, fmt: str, filters: Mapping[str, Any] | Any, rows: int) -> None:
    """Record an export made on the command line (the system's identity, with the OS account)."""
    in_own_transaction(
        lambda s: record_export(s, actor=None, what=what, fmt=fmt, filters=filters, rows=rows, channel="cli")
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "?"
