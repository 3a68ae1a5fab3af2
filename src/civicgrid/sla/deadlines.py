"""Stage and disposal deadlines of SPEC §6, computed on the working clock. Pure: no database, no web."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from civicgrid.sla.clock import Limit, WorkingClock, parse_limit

# Stage limits (defaults of SPEC §6), natural time.
REGISTER_DISPATCH_URGENT = Limit(10, "min")
REGISTER_DISPATCH_OTHER = Limit(30, "min")
VERIFY_LIMIT = Limit(1, "h")
CHECK_LIMIT = Limit(1, "h")
WARNING_FRACTION = 0.8


@lru_cache
def get_clock() -> WorkingClock:
    from civicgrid.settings import get_settings

    return WorkingClock(tz=get_settings().timezone)


def disposal_due(start: datetime, limit: Limit | str, clock: WorkingClock | None = None) -> datetime:
    """The disposal due time of a case dispatched at ``start`` with a category limit such as ``4wh``."""
    lim = parse_limit(limit) if isinstance(limit, str) else limit
    return (clock or get_clock()).add(start, lim)


def register_dispatch_due(received_at: datetime, urgent: bool, clock: WorkingClock | None = None) -> datetime:
    return (clock or get_clock()).add(
        received_at, REGISTER_DISPATCH_URGENT if urgent else REGISTER_DISPATCH_OTHER
    )


def stage_due(sent_at: datetime, limit: Limit, clock: WorkingClock | None = None) -> datetime:
    return (clock or get_clock()).add(sent_at, limit)
