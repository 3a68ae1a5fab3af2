"""The HJ 212 listener as a running service: stations' PWs from the database, accepted packets stored.

``civicgrid hj212 serve`` runs it in the foreground; ``civicgrid services run hj212`` runs it under the
supervisor (restart on crash, a health line in /readyz). Storing happens in a worker thread, one unit of work
per batch of the packets that arrived meanwhile (:class:`BatchSink`), so a slow database slows the answers but
never blocks other connections' reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.db import unit_of_work
from civicgrid.models import Station
from civicgrid.monitoring import alarms, readings, stations
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
        return _store(session, packet)


def _active(session: Session, mns: set[str]) -> dict[str, Station]:
    """The active stations of these MNs, in one query (a batch holds packets of many stations)."""
    query = select(Station).where(Station.mn.in_(sorted(mns)), Station.active.is_(True))
    return {st.mn: st for st in session.scalars(query)}


def _store(session: Session, packet: Packet, book: dict[str, Station] | None = None) -> int:
    if not packet.mn:
        return 0
    book = _active(session, {packet.mn}) if book is None else book
    station = book.get(packet.mn)
    if station is None:
        return 0
    stored = readings.store(session, station, packet)
    if stored:  # new rows only: a resent packet is not judged twice
        alarms.after_store(session, station, packet)  # in a savepoint of this same unit of work
    return stored


def store_packets(packets: Sequence[Packet]) -> list[int | Exception]:
    """Several packets in one unit of work — one commit instead of one each (the listener's and the MQTT
    workers' batches). If the batch fails, each packet is stored in a unit of work of its own, so a failing
    packet fails alone: its exception is returned in its place."""
    try:
        with unit_of_work() as session:
            book = _active(session, {p.mn for p in packets if p.mn})
            return [_store(session, p, book) for p in packets]
    except Exception as exc:
        if len(packets) == 1:
            return [exc]
    out: list[int | Exception] = []
    for p in packets:
        try:
            out.append(store_packet(p))
        except Exception as exc:
            out.append(exc)
    return out


class BatchSink:
    """The listener's sink: packets of all connections that arrive while a batch is being written are stored
    together in the next one (up to ``max_batch``, one writer thread, so SQLite never waits on its own lock);
    each connection's answer still waits for its own packet's commit."""

    def __init__(self, max_batch: int = 500) -> None:
        self.max_batch = max_batch
        self._pending: list[tuple[Packet, asyncio.Future[int | Exception]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, packet: Packet) -> None:
        future: asyncio.Future[int | Exception] = asyncio.get_running_loop().create_future()
        self._pending.append((packet, future))
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._write())
        assert self._wake is not None
        self._wake.set()
        result = await future
        if isinstance(result, Exception):
            raise result

    async def _write(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    results = await asyncio.to_thread(store_packets, [p for p, _ in batch])
                except Exception as exc:  # store_packets returns errors; this is a last guard
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def serve(
    host: str, port: int, stop: threading.Event | None = None, ready: threading.Event | None = None
) -> None:
    s = get_monitoring_settings()
    sink = BatchSink()
    listener = Hj212Listener(DatabaseBook(s.book_refresh_s), sink, idle_timeout_s=s.idle_timeout_s)
    bound = await listener.start(host, port)
    log.info("HJ 212 listener on %s:%s", host, bound)
    if ready is not None:
        ready.set()
    try:
        while stop is None or not stop.is_set():
            await asyncio.sleep(0.2)
    finally:
        await listener.stop()
        await sink.close()


def run(stop: threading.Event) -> None:
    """The ``hj212`` service (``Domain.services``): listen until asked to stop."""
    s = get_monitoring_settings()
    asyncio.run(serve(s.hj212_host, s.hj212_port, stop))
