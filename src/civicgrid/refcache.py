"""Per-process caches of reference data: category and department names, the active grid generation, the
Open311 service list, who a logged-in user is (with their token version and revoked tokens).

These rows change a few times a year but are read on almost every request. A cached value lives for
``settings.reference_cache_s`` seconds (5 by default), so an edit made by another worker process shows up
within that time; an edit made by this process (any INSERT, UPDATE or DELETE on a reference table, through
the ORM or not) empties every cache at once. Cached values are plain data, never ORM objects, so they cannot
leak a session.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, event

from civicgrid.settings import get_settings

REFERENCE_TABLES = (
    "categories",
    "routing_rules",
    "departments",
    "users",
    "user_roles",
    "user_grids",
    "revoked_tokens",
    "api_clients",
    "grid_generations",
    "areas",
)
_WRITE = re.compile(
    r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(" + "|".join(REFERENCE_TABLES) + r")\b", re.IGNORECASE
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_epoch = 0
_epoch_lock = threading.Lock()


def invalidate() -> None:
    """Forget every cached value in this process (reference data changed, or a test starts afresh)."""
    global _epoch
    with _epoch_lock:
        _epoch += 1


class ProcessCache(Generic[K, V]):
    """A small key → value cache; an entry is reloaded when older than the TTL or after `invalidate()`."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._data: dict[K, tuple[int, float, V]] = {}
        self._max = max_entries

    def get(self, key: K, load: Callable[[], V]) -> V:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] == _epoch and hit[1] > now:
            return hit[2]
        epoch = _epoch  # read before loading: a write during the load leaves the entry already stale
        value = load()
        if len(self._data) >= self._max:
            self._data.clear()
        self._data[key] = (epoch, now + get_settings().reference_cache_s, value)
        return value


@event.listens_for(Engine, "before_cursor_execute")
def _watch_writes(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _executemany: bool
) -> None:
    if _WRITE.match(statement):
        invalidate()
        conn.info["refcache_dirty"] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _transaction_end(conn: Any) -> None:
    # Once more at the end: another thread may have cached the old rows while this transaction was open, and a
    # rollback must not leave this transaction's own uncommitted rows in a cache.
    if conn.info.pop("refcache_dirty", False):
        invalidate()
