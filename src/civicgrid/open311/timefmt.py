"""W3C / ISO 8601 datetimes for Open311: written in local time with the offset, read leniently. Pure."""

from __future__ import annotations

from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from civicgrid.fields import DateOutOfRange, in_range
from civicgrid.settings import get_settings


@lru_cache
def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def w3c(dt: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in local time with its offset, e.g. 2026-11-26T09:30:00+08:00."""
    if dt is None:
        return None
    return dt.astimezone(local_zone()).isoformat(timespec="seconds")


def parse_w3c(text: str) -> datetime:
    """Parse a W3C datetime (a bare date is local midnight; no offset means local time). Raises ValueError,
    DateOutOfRange for a year outside fields.MIN_YEAR..MAX_YEAR (arithmetic near year 1 or 9999 overflows)."""
    raw = text.strip()
    if len(raw) > 19 and raw[19] == " ":  # a '+' that arrived unencoded in a query string
        raw = raw[:19] + "+" + raw[20:]
    if len(raw) == 10:
        dt = datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time(0), local_zone())
    else:
        dt = datetime.fromisoformat(raw)
        dt = dt if dt.tzinfo is not None else dt.replace(tzinfo=local_zone())
    if not in_range(dt):
        raise DateOutOfRange
    return dt
