"""The HJ 212 listener as a running service: stations' PWs from the database, accepted packets stored.

``civicgrid hj212 serve`` runs it in the foreground; ``civicgrid services run hj212`` runs it under the
supervisor (restart on crash, a health line in /readyz). Storing happens in worker threads, one unit of work
per packet, so a slow database slows the answers but never blocks other connections' reading.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from sqlalchemy import select

from civicgrid.db import unit_of_work
from civicgrid.models import Station
from civicgrid.monitoring import readings, stations
from civicgrid.monitoring.hj212 import Packet
from civicgrid.monitoring.listener import Hj212Listener
from civicgrid.monitoring.settings import get_monitoring_settings

log = logging.getLogger(__name__)


class DatabaseBook:
    """MN → PW of the active stations, re-read every ``refresh_s`` seconds (a new station is heard soon)."""

    def __init__(self, refresh_s: float) -> None:
        self.refresh_s = refresh_s
        self._book: dict[str, str] = {}
        self._loaded = 0.0

    def password(self, mn: str) -> str | None:
        now = time.monotonic()
        if now - self._loaded > self.refresh_s or (mn not in self._book and now - self._loaded > 1.0):
            with unit_of_work(write=False) as session:
                self._book = stations.passwords(session)
            self._loaded = now
        return self._book.get(mn)


def store_packet(packet: Packet) -> int:
    with unit_of_work() as session:
        station = session.scalar(select(Station).where(Station.mn == packet.mn, Station.active.is_(True)))
        if station is None:
            return 0
        return readings.store(session, station, packet)


async def _sink(packet: Packet) -> None:
    await asyncio.to_thread(store_packet, packet)


async def serve(
    host: str, port: int, stop: threading.Event | None = None, ready: threading.Event | None = None
) -> None:
    s = get_monitoring_settings()
    listener = Hj212Listener(DatabaseBook(s.book_refresh_s), _sink, idle_timeout_s=s.idle_timeout_s)
    bound = await listener.start(host, port)
    log.info("HJ 212 listener on %s:%s", host, bound)
    if ready is not None:
        ready.set()
    try:
        while stop is None or not stop.is_set():
            await asyncio.sleep(0.2)
    finally:
        await listener.stop()


def run(stop: threading.Event) -> None:
    """The ``hj212`` service (``Domain.services``): listen until asked to stop."""
    s = get_monitoring_settings()
    asyncio.run(serve(s.hj212_host, s.hj212_port, stop))
