"""Counting failed attempts (wrong tracking codes): the pure rules, and a per-process limiter per client.

Two limits apply to a secret that can be guessed (cases/tracking.py uses both):

- **Per target** (a case number), kept in the database so that it holds across worker processes and hosts:
  ``after_failure`` turns the stored counter into the next one. ``limit`` failures inside one window lock the
  target for a whole window; while it is locked no code is even looked at, the right one included — otherwise
  the lock would still tell a guesser when they hit.
- **Per client** (an address; IPv6 by its /64, which one subscriber usually holds whole): ``ClientLimiter``, a
  sliding window in this process's memory. It needs no database write, and a process forgets it on restart,
  which is acceptable for a limit whose job is to slow one source down.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Counter:
    """A target's stored failures: how many since ``window_start``, and the end of a lock, if any."""

    failures: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None


def retry_after(counter: Counter, now: datetime) -> int:
    """Seconds until the target may be tried again (0 = not locked)."""
    if counter.locked_until is None or counter.locked_until <= now:
        return 0
    return max(1, math.ceil((counter.locked_until - now).total_seconds()))


def after_failure(counter: Counter, now: datetime, limit: int, window_s: int) -> Counter:
    """The counter after one more failure at ``now``; the ``limit``-th failure in a window locks the target
    for ``window_s`` seconds and starts counting afresh."""
    window = timedelta(seconds=window_s)
    fresh = counter.window_start is None or now - counter.window_start >= window
    failures = 1 if fresh else counter.failures + 1
    start = now if fresh else counter.window_start
    if failures >= limit:
        return Counter(failures=0, window_start=None, locked_until=now + window)
    return Counter(failures=failures, window_start=start, locked_until=counter.locked_until)


def client_key(address: str) -> str:
    """The unit a client is counted by: the address itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class ClientLimiter:
    """At most ``limit`` failures per client within the last ``window_s`` seconds (monotonic clock)."""

    MAX_CLIENTS = 50_000  # past this, clients whose failures have all aged out are dropped

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float, window_s: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, address: str, now: float, limit: int, window_s: float) -> int:
        """Seconds until this client may try again (0 = it may now)."""
        with self._lock:
            times = self._recent(client_key(address), now, window_s)
            if len(times) < limit:
                return 0
            return max(1, math.ceil(times[-limit] + window_s - now))

    def fail(self, address: str, now: float, limit: int, window_s: float) -> None:
        with self._lock:
            key = client_key(address)
            times = self._recent(key, now, window_s)
            self._failures[key] = times
            times.append(now)
            while len(times) > limit:  # only the newest ``limit`` matter
                times.popleft()
            if len(self._failures) > self.MAX_CLIENTS:
                for other in list(self._failures):
                    self._recent(other, now, window_s)
                for other in list(self._failures)[: max(0, len(self._failures) - self.MAX_CLIENTS)]:
                    del self._failures[other]  # still too many: forget the longest-known first

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
